"""Internal templates (issue 10, defect 6): kept by the store, left out of listings and search, usable by name."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine

from conftest import STARTER, make_settings, template_source
from pba_tunnel.config import Settings
from pba_tunnel.seed import starter_items
from pba_tunnel.service import TemplateService
from pba_tunnel.store import Store
from pba_tunnel.store.dialects import GenericDialect
from pba_tunnel.store.migrate import HEAD_REVISION, alembic_config
from pba_tunnel.sync import export_to, import_path
from pba_tunnel.templates.sections import content_hash

pytestmark = pytest.mark.anyio

SECRET = template_source(description="Walrus instructions for a tool.", extra="internal: true\n")
PUBLIC = template_source(description="Greets a walrus.")
PLAIN_SECRET = template_source(description="Walrus instructions for a tool.")  # the same, no longer internal


async def listed(service: TemplateService, **filters: object) -> list[str]:
    return [t.name for t in (await service.list_templates(**filters)).items]  # type: ignore[arg-type]


async def found(service: TemplateService, query: str) -> list[str]:
    return [hit.name for hit in (await service.search(query)).results]


async def test_an_internal_template_is_kept_and_left_out_of_every_listing(service: TemplateService) -> None:
    await service.create(SECRET, name="walrus-instructions", category="tools")
    await service.create(PUBLIC, name="walrus-greeting", category="tools")

    stored = await service.get("walrus-instructions")
    assert (stored.internal, stored.version) == (True, 1)
    assert (await service.get("walrus-greeting")).internal is False
    assert await listed(service) == ["walrus-greeting"]
    assert await listed(service, category="tools") == ["walrus-greeting"]
    assert await listed(service, include_internal=True) == ["walrus-greeting", "walrus-instructions"]
    every = (await service.list_templates(include_internal=True)).items
    assert [t.internal for t in every] == [False, True]
    rows, next_cursor = await service.prompt_rows()
    assert ([r.name for r in rows], next_cursor) == (["walrus-greeting"], None)


async def test_an_internal_template_is_not_found_by_search(service: TemplateService) -> None:
    await service.create(SECRET, name="walrus-instructions", category="tools")
    await service.create(PUBLIC, name="walrus-greeting", category="tools")
    assert await found(service, "walrus") == ["walrus-greeting"]  # full text
    assert await found(service, "instructions") == []
    assert await found(service, "walrus-instructons") == []  # similar names leave it out too
    assert await found(service, "walrus-greting") == ["walrus-greeting"]
    filtered = await service.search("category:tools")
    assert (filtered.mode, [h.name for h in filtered.results]) == ("filter", ["walrus-greeting"])


async def test_plain_matching_leaves_internal_templates_out_too(home: Path) -> None:
    settings = make_settings(home)
    store = await Store.open(settings.database_url, dialect=GenericDialect())  # a database without FTS5
    service = TemplateService(store, settings)
    try:
        await service.create(SECRET, name="walrus-instructions")
        await service.create(PUBLIC, name="walrus-greeting")
        assert await found(service, "walrus") == ["walrus-greeting"]
    finally:
        await service.close()


async def test_an_internal_template_still_reads_and_renders_by_name(service: TemplateService) -> None:
    await service.create(SECRET, name="walrus-instructions")
    assert (await service.get("walrus-instructions")).source == SECRET
    rendered = await service.render("walrus-instructions", {"who": "Wally"})
    assert [m.content for m in rendered.messages] == ["Hello Wally!"]
    assert await service.complete_argument("walrus-instructions", "who") == ["Wally"]


async def test_the_flag_follows_the_versions(service: TemplateService) -> None:
    await service.create(SECRET, name="walrus-instructions")
    await service.update("walrus-instructions", PLAIN_SECRET)
    assert (await service.get("walrus-instructions")).internal is False
    assert await listed(service) == ["walrus-instructions"]
    assert await found(service, "instructions") == ["walrus-instructions"]
    await service.rollback("walrus-instructions", 1)
    assert ((await service.get("walrus-instructions")).version, await listed(service)) == (3, [])
    assert await found(service, "instructions") == []
    await service.delete("walrus-instructions")
    await service.restore("walrus-instructions")
    assert (await listed(service), await listed(service, include_internal=True)) == ([], ["walrus-instructions"])


async def test_export_keeps_internal_templates(service: TemplateService, tmp_path: Path) -> None:
    await service.create(SECRET, name="walrus-instructions")
    written = (await export_to(service, tmp_path / "out")).written
    assert [p.name for p in written] == ["walrus-instructions.md"]
    assert written[0].read_text(encoding="utf-8") == SECRET


def downgrade_to_0003(settings: Settings) -> None:
    """Turn the store back into one made before internal templates existed."""
    engine = create_engine(f"sqlite:///{settings.sqlite_path}")
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0003_enhancements")
    finally:
        engine.dispose()


async def test_a_store_made_before_gets_internal_false_everywhere(settings: Settings) -> None:
    service = await TemplateService.open(settings)
    try:
        await service.create(PLAIN_SECRET, name="walrus-instructions")
        await service.create(PUBLIC, name="walrus-greeting")
    finally:
        await service.close()
    downgrade_to_0003(settings)
    with sqlite3.connect(settings.sqlite_path or "") as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(templates)")]
        assert "internal" not in columns
        connection.execute("DELETE FROM templates_fts")  # the reindex after migrating fills it again

    service = await TemplateService.open(settings)  # migrates
    try:
        with sqlite3.connect(settings.sqlite_path or "") as connection:
            assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD_REVISION,)]
            flags = connection.execute("SELECT name, internal FROM templates ORDER BY name").fetchall()
        assert flags == [("walrus-greeting", 0), ("walrus-instructions", 0)]
        assert await listed(service) == ["walrus-greeting", "walrus-instructions"]
        assert await found(service, "walrus") == ["walrus-greeting", "walrus-instructions"]
        await service.update("walrus-instructions", SECRET)
        assert await listed(service) == ["walrus-greeting"]
    finally:
        await service.close()


async def test_importing_the_starter_library_makes_an_old_stores_instructions_internal(
    service: TemplateService,
) -> None:
    """A store seeded before the flag holds the enhance-* templates without it; importing the library updates them."""
    items, failed = starter_items(service)
    assert failed == []
    old = [item for item in items if item.internal]
    for item in old:  # as seeded before: the same instructions without the flag
        source = item.source.replace("internal: true\n", "")
        assert source != item.source
        items[items.index(item)] = item.model_copy(
            update={"source": source, "internal": False, "content_hash": content_hash(source, item.category)}
        )
    await service.save_all(items, origin="seed", facts={})
    assert sorted(n for n in await listed(service) if n.startswith("enhance-")) == [i.name for i in old]

    report = await import_path(service, STARTER)
    assert report.failed == []
    assert sorted(report.updated) == [i.name for i in old]
    assert [n for n in await listed(service) if n.startswith("enhance-")] == []
    for item in old:
        stored = await service.get(item.name)
        assert (stored.internal, stored.version, stored.source) == (True, 2, item.source)
    rendered = await service.render("enhance-clarity", {"source": PUBLIC})
    assert PUBLIC.strip() in rendered.messages[-1].content
