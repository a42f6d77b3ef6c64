"""``pba-tunnel db copy``: a whole store moved SQLite → PostgreSQL → SQLite, row for row, through the real CLI."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from conftest import make_settings, run_cli, template_source
from pba_tunnel.service import TemplateService
from pba_tunnel.store.copying import TargetNotEmptyError, copy_store
from pba_tunnel.store.models import METADATA
from pba_tunnel.store.records import EnhancementEvent

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

CONTENT_TABLES = ("templates", "template_versions", "template_tags", "render_events", "enhancement_events")


async def fill(home: Path) -> None:
    """A small SQLite store with a bit of everything: versions, a deleted and an internal template, events."""
    service = await TemplateService.open(make_settings(home))
    try:
        await service.create(template_source(extra="tags: [one, two]\n"), name="greet", category="social")
        await service.update("greet", template_source(body="user:\nHi {{ who }}", extra="tags: [two]\n"))
        await service.rollback("greet", 1)
        await service.create(template_source(description="Waves at the quokkafish."), name="wave")
        await service.create(template_source(description="Gone."), name="gone")
        await service.delete("gone")
        await service.create(template_source(extra="internal: true\n"), name="hidden")
        for who in ("Ann", "Bob", "Cy"):
            await service.render("greet", {"who": who}, client="client-a")
        await service.flush_events()
        await service.record_enhancement(
            EnhancementEvent(
                name="greet", goal="concise", provider="fake", model="m", latency_ms=1.5, attempts=1, saved=False
            )
        )
    finally:
        await service.close()


def _normal(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


async def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every content table, read with the schema's types (timestamps in UTC)."""
    tables = {t.name: t for t in METADATA.sorted_tables}
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return {
                name: [
                    tuple(_normal(v) for v in row)
                    for row in await connection.execute(
                        select(tables[name]).order_by(*tables[name].primary_key.columns)
                    )
                ]
                for name in CONTENT_TABLES
            }
    finally:
        await engine.dispose()


@pytest.mark.slow
async def test_a_store_goes_to_postgresql_and_back_unchanged(home: Path, tmp_path: Path, postgres_url: str) -> None:
    await fill(home)
    original = await dump(make_settings(home).database_url)
    assert [len(original[t]) for t in CONTENT_TABLES] == [4, 6, 2, 3, 1]

    there = run_cli("db", "copy", "--to", postgres_url, "--batch-size", "2", home=home)
    assert there.returncode == 0, there.stderr
    where = postgres_url.split("@")[-1]
    assert there.stdout == (
        f"copied 4 templates, 6 versions, 2 tags, 3 render events, 1 enhancement events, "
        f"1 recorded changes (label moves, deletes, restores), 1 daily usage rows from {home / 'pba-tunnel.db'} "
        f"to {where} (row counts checked; 2 prompts indexed for search)\n"
    )
    assert await dump(postgres_url) == original

    # The copy serves as the original did: history, rollback's version, deletion, search, completion.
    service = await TemplateService.open(make_settings(tmp_path / "pg-home", PBA_TUNNEL_DATABASE_URL=postgres_url))
    try:
        assert [v.version for v in await service.history("greet")] == [1, 2, 3]
        assert (await service.get("greet")).source == template_source(extra="tags: [one, two]\n")
        assert [h.name for h in (await service.search("quokkafish")).results] == ["wave"]
        assert await service.complete_argument("greet", "who", client="client-a") == ["Cy", "Bob", "Ann"]
        assert await service.restore("gone") is True
        created = await service.create(template_source(), name="new-after-copy")  # ids continue past the copied
        assert created.version == 1
    finally:
        await service.close()

    plain_url = postgres_url.replace("postgresql+asyncpg://", "postgresql://", 1)  # read with asyncpg all the same
    again = run_cli("db", "copy", "--to", plain_url, home=home)
    assert (again.returncode, again.stdout) == (1, "")
    assert again.stderr == (
        f"error: the target store {where} is not empty (it holds 5 templates, 7 versions, 2 tags, 3 render events, "
        "1 enhancement events, 2 recorded changes (label moves, deletes, restores), 1 daily usage rows); "
        "pass --force to replace its contents\n"
    )

    back_home = tmp_path / "back"
    back = run_cli("db", "copy", "--from", postgres_url, home=back_home, env={"PBA_TUNNEL_SEED": "0"})
    assert back.returncode == 0, back.stderr
    returned = await dump(make_settings(back_home).database_url)
    assert [len(returned[t]) for t in CONTENT_TABLES] == [5, 7, 2, 3, 1]
    assert [row for row in returned["template_versions"] if row[1] != 5] == original["template_versions"]


async def test_a_non_empty_target_is_refused_unless_replaced(home: Path, tmp_path: Path, postgres_url: str) -> None:
    await fill(home)
    source = make_settings(home).database_url
    await copy_store(source, postgres_url)
    other = tmp_path / "other"
    service = await TemplateService.open(make_settings(other))
    try:
        await service.create(template_source(), name="mine")
    finally:
        await service.close()
    target = make_settings(other).database_url
    with pytest.raises(TargetNotEmptyError) as refused:
        await copy_store(postgres_url, target)
    assert refused.value.code == "conflict"
    assert {k: v for k, v in refused.value.counts.items() if v} == {"templates": 1, "template_versions": 1}

    report = await copy_store(postgres_url, target, replace=True)
    assert report.rows["templates"] == 4
    assert await dump(target) == await dump(source)
