"""Usage statistics: every render counted per template, version, label, client and day, as daily rows."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import make_settings, template_source
from pba_tunnel.errors import MissingArgumentsError
from pba_tunnel.labels import LabelView
from pba_tunnel.service import TemplateService
from pba_tunnel.store import histogram

pytestmark = pytest.mark.anyio

TODAY = datetime.now(UTC).date()


async def renders(service: TemplateService) -> None:
    """5 renders of greet (3 latest by a, 1 of version 1 through production by b, 1 failed by a), 0 of bye."""
    await service.create(template_source(body="user:\nHello {{ who }}!"), name="greet")
    await service.update("greet", template_source(body="user:\nHi {{ who }}!"))
    await service.create(template_source(body="user:\nBye {{ who }}!"), name="bye")
    await service.set_label("greet", "production", version=1, author="cli", can_admin=True)
    for _ in range(3):
        await service.render("greet", {"who": "Al"}, client="a")
    await service.flush_events()  # the next flush merges into the same daily rows
    await service.render("greet", {"who": "Al"}, client="b", view=LabelView("production"))
    with pytest.raises(MissingArgumentsError):
        await service.render("greet", {}, client="a")


async def test_statistics_match_the_renders_made(service: TemplateService) -> None:
    await renders(service)

    (total,) = await service.usage(since=TODAY)
    assert (total.name, total.group, total.renders, total.errors) == ("greet", None, 4, 1)
    assert 0 < total.p50_ms <= total.p95_ms
    assert (datetime.now(UTC) - total.last_used) < timedelta(minutes=1)

    by_client = {s.group: (s.renders, s.errors) for s in await service.usage(since=TODAY, by="client")}
    assert by_client == {"a": (3, 1), "b": (1, 0)}
    by_label = {s.group: (s.renders, s.errors) for s in await service.usage(since=TODAY, by="label")}
    assert by_label == {"latest": (3, 1), "production": (1, 0)}
    by_version = {s.group: (s.renders, s.errors) for s in await service.usage(since=TODAY, by="version")}
    assert by_version == {"2": (3, 1), "1": (1, 0)}
    assert [name for name, _ in await service.unused(since=TODAY)] == ["bye"]
    assert await service.usage(since=TODAY, name="bye") == []


async def test_flushes_merge_into_one_row_per_key_and_day(service: TemplateService) -> None:
    await renders(service)
    await service.flush_events()
    path = service.settings.sqlite_path
    assert path is not None
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT version, label, client, renders, errors FROM usage_daily ORDER BY version, client"
        ).fetchall()
    assert rows == [(1, "production", "b", 1, 0), (2, "latest", "a", 3, 1)]


async def test_statistics_can_be_turned_off(home: Path) -> None:
    service = await TemplateService.open(make_settings(home, PBA_TUNNEL_USAGE_STATS="false"))
    try:
        await service.create(template_source(), name="greet")
        await service.render("greet", {"who": "Al"}, client="a")
        assert await service.usage(since=TODAY) == []
        assert await service.complete_argument("greet", "who", client="a") == ["Al"]  # completion still learns
    finally:
        await service.close()


async def test_daily_rows_older_than_the_kept_days_are_dropped(home: Path) -> None:
    settings = make_settings(home, PBA_TUNNEL_USAGE_DAYS="2")
    service = await TemplateService.open(settings)
    try:
        await service.create(template_source(), name="greet")
        await service.render("greet", {"who": "Al"}, client="a")
        await service.flush_events()
    finally:
        await service.close()
    assert settings.sqlite_path is not None
    with sqlite3.connect(settings.sqlite_path) as connection:
        connection.execute("UPDATE usage_daily SET day = ?", ((TODAY - timedelta(days=2)).isoformat(),))
    service = await TemplateService.open(settings)  # a new process prunes with its first flush
    try:
        await service.render("greet", {"who": "Al"}, client="a")
        stats = await service.usage(since=TODAY - timedelta(days=30))
    finally:
        await service.close()
    assert [(s.name, s.renders) for s in stats] == [("greet", 1)]


def test_percentiles_come_from_a_histogram_at_most_25_percent_high() -> None:
    times = [float(ms) for ms in range(1, 101)]  # 1..100 ms
    counts = histogram.of(times)
    assert 50 <= histogram.percentile(counts, 0.5) <= 50 * 1.25
    assert 95 <= histogram.percentile(counts, 0.95) <= 95 * 1.25
    merged = histogram.loads(histogram.dumps(counts))
    histogram.merge(merged, counts)
    assert histogram.percentile(merged, 0.5) == histogram.percentile(counts, 0.5)
    assert histogram.percentile({}, 0.5) == 0.0
