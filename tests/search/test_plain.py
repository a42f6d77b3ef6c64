"""Databases without a full-text index (the generic dialect) still search: every word, name and title first."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import make_settings, template_source
from pba_tunnel.service import TemplateService
from pba_tunnel.store import Store
from pba_tunnel.store.dialects import GenericDialect

pytestmark = pytest.mark.anyio


async def test_the_generic_dialect_falls_back_to_plain_matching(home: Path) -> None:
    settings = make_settings(home)
    store = await Store.open(settings.database_url, dialect=GenericDialect())  # what a database without FTS5 gets
    service = TemplateService(store, settings)
    try:
        await service.create(template_source(description="Greets a walrus."), name="walrus-greeting")
        await service.create(template_source(description="Mentions a walrus once in passing."), name="other")
        found = await service.search("walrus greeting", limit=5)
        assert (found.mode, [h.name for h in found.results]) == ("all", ["walrus-greeting"])
        assert found.results[0].matched[:2] == ["name", "description"]
        assert [h.name for h in (await service.search("walrus")).results] == ["walrus-greeting", "other"]
    finally:
        await service.close()
