"""Render events: kept for a configurable period, and offered back for completion only to the client that
gave them unless sharing is switched on."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import make_settings, template_source
from pba_tunnel.config import Settings
from pba_tunnel.errors import ConfigError
from pba_tunnel.service import TemplateService
from pba_tunnel.store import Store
from pba_tunnel.store.models import utcnow

pytestmark = pytest.mark.anyio


def _database(settings: Settings) -> Path:
    return Path(settings.database_url.split("///", 1)[1])


def _event_years(settings: Settings) -> list[str]:
    with sqlite3.connect(_database(settings)) as db:
        return [row[0] for row in db.execute("SELECT substr(created_at, 1, 4) FROM render_events ORDER BY id")]


async def test_events_older_than_the_period_are_pruned_with_a_later_flush(home: Path) -> None:
    settings = make_settings(home, PBA_TUNNEL_RENDER_EVENT_DAYS="30")
    service = await TemplateService.open(settings)
    try:
        await service.create(template_source(), name="greet")
        await service.render("greet", {"who": "old"})
        await service.render("greet", {"who": "recent"})
        await service.flush_events()
    finally:
        await service.close()
    with sqlite3.connect(_database(settings)) as db:  # age the first event by years, keeping its stored format
        db.execute("UPDATE render_events SET created_at = '2001' || substr(created_at, 5) WHERE id = 1")
    this_year = str(utcnow().year)
    assert _event_years(settings) == ["2001", this_year]

    service = await TemplateService.open(settings)
    try:
        await service.render("greet", {"who": "new"})
        await service.flush_events()
        assert _event_years(settings) == [this_year, this_year]
        assert await service.complete_argument("greet", "who") == ["new", "recent"]
    finally:
        await service.close()


async def test_prune_keeps_what_is_within_the_period(settings: Settings) -> None:
    service = await TemplateService.open(settings)
    try:
        await service.create(template_source(), name="greet")
        await service.render("greet", {"who": "Ann"})
        await service.flush_events()
    finally:
        await service.close()
    store = await Store.open(settings.database_url)
    try:
        assert await store.prune_render_events(utcnow() - timedelta(days=1)) == 0
        assert await store.prune_render_events(utcnow() + timedelta(seconds=1)) == 1
    finally:
        await store.close()
    assert _event_years(settings) == []


async def test_completion_offers_only_the_values_this_client_used(home: Path, backend_env: dict[str, str]) -> None:
    service = await TemplateService.open(make_settings(home, **backend_env))
    try:
        await service.create(template_source(), name="greet")
        await service.render("greet", {"who": "alice-secret"}, client="client-a")
        await service.render("greet", {"who": "bob-secret"}, client="client-b")
        await service.render("greet", {"who": "anonymous"})
        assert await service.complete_argument("greet", "who", client="client-a") == ["alice-secret"]
        assert await service.complete_argument("greet", "who", client="client-b") == ["bob-secret"]
        assert await service.complete_argument("greet", "who", client="client-c") == []
        assert await service.complete_argument("greet", "who") == ["anonymous"]
    finally:
        await service.close()


async def test_sharing_offers_every_clients_values(home: Path) -> None:
    service = await TemplateService.open(make_settings(home, PBA_TUNNEL_SHARE_ARGUMENT_VALUES="1"))
    try:
        await service.create(template_source(), name="greet")
        await service.render("greet", {"who": "Ann"}, client="client-a")
        await service.render("greet", {"who": "Bob"}, client="client-b")
        assert await service.complete_argument("greet", "who", client="client-c") == ["Bob", "Ann"]
    finally:
        await service.close()


def test_the_settings_have_safe_defaults_and_refuse_bad_values(home: Path) -> None:
    settings = make_settings(home)
    assert (settings.render_event_days, settings.share_argument_values) == (90, False)
    for env in ({"PBA_TUNNEL_RENDER_EVENT_DAYS": "0"}, {"PBA_TUNNEL_RENDER_EVENT_DAYS": "a week"}):
        with pytest.raises(ConfigError, match="RENDER_EVENT_DAYS"):
            make_settings(home, **env)
    with pytest.raises(ConfigError, match="SHARE_ARGUMENT_VALUES"):
        make_settings(home, PBA_TUNNEL_SHARE_ARGUMENT_VALUES="maybe")
