"""Parse once (issue 16): versions keep what validation found; the SQLite index keeps no copy of the text."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine

from conftest import STARTER, template_source
from pba_tunnel.config import Settings
from pba_tunnel.service import TemplateService
from pba_tunnel.store.fulltext import COLUMNS, CONTENT
from pba_tunnel.store.migrate import alembic_config
from pba_tunnel.sync import import_path
from pba_tunnel.templates.facts import facts_json, parsed_from_facts
from pba_tunnel.templates.parsing import parse_template

pytestmark = pytest.mark.anyio


def query(settings: Settings, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(settings.sqlite_path or "") as connection:
        return connection.execute(sql).fetchall()


def check_index(settings: Settings) -> None:
    """The index holds exactly the words a fresh index of the documents the view shows would hold."""
    with sqlite3.connect(settings.sqlite_path or "") as connection:
        connection.execute("INSERT INTO templates_fts(templates_fts) VALUES ('integrity-check')")
        columns = ", ".join(COLUMNS)
        connection.execute(f"CREATE VIRTUAL TABLE temp.fresh USING fts5({columns}, tokenize = 'porter unicode61')")
        connection.execute(f"INSERT INTO temp.fresh(rowid, {columns}) SELECT id, {columns} FROM {CONTENT}")
        connection.execute("CREATE VIRTUAL TABLE temp.kept_words USING fts5vocab(main, templates_fts, 'instance')")
        connection.execute("CREATE VIRTUAL TABLE temp.fresh_words USING fts5vocab(temp, fresh, 'instance')")
        kept = connection.execute("SELECT * FROM temp.kept_words ORDER BY 1, 2, 3, 4").fetchall()
        fresh = connection.execute("SELECT * FROM temp.fresh_words ORDER BY 1, 2, 3, 4").fetchall()
    assert kept == fresh
    assert len(kept) > 10


async def found(service: TemplateService, words: str) -> list[str]:
    return [hit.name for hit in (await service.search(words)).results]


async def test_every_starter_template_reads_back_from_its_facts_as_it_parses(settings: Settings) -> None:
    service = await TemplateService.open(settings)
    try:
        report = await import_path(service, STARTER)
        assert report.failed == []
    finally:
        await service.close()
    assert query(
        settings,
        "SELECT count(*) FROM template_versions v JOIN templates t ON t.id = v.template_id "
        "WHERE t.kind = 'prompt' AND v.facts_json IS NULL",
    ) == [(0,)]

    service = await TemplateService.open(settings)  # nothing in memory: every read starts from the store
    try:
        names = [t.name for t in (await service.list_templates(include_internal=True, limit=1000)).items]
        assert len(names) >= 20
        for name in names:
            stored, parsed = await service.current(name)
            again = service.parse(stored.source, default_name=name, default_category=stored.category)
            assert parsed == again, name
    finally:
        await service.close()


def test_facts_refuse_values_json_would_change() -> None:
    dated = parse_template(template_source(extra="metadata:\n  created: 2024-01-02\n"), default_name="dated")
    assert facts_json(dated) is None  # a YAML date would come back as a string
    numbers = template_source(
        body="user:\n{{ who }} {{ ratio }}",
        arguments="  - name: who\n    description: Who\n"
        "  - name: ratio\n    description: A ratio\n    type: number\n    default: 1.0\n",
    )
    parsed = parse_template(numbers, default_name="ratio")
    facts = facts_json(parsed)
    assert facts is not None
    again = parsed_from_facts(parsed.source, parsed.content_hash, facts)
    assert again == parsed
    assert again is not None
    assert type(again.spec.arguments[1].default) is float


async def test_a_version_stored_without_facts_renders_the_same_and_gets_them(settings: Settings) -> None:
    source = template_source(extra="metadata:\n  created: 2024-01-02\n")
    service = await TemplateService.open(settings)
    try:
        await service.create(template_source(), name="hello")
        await service.create(source, name="dated")
        expected = (await service.render("hello", {"who": "Ada"})).text
    finally:
        await service.close()
    with sqlite3.connect(settings.sqlite_path or "") as connection:
        connection.execute("UPDATE template_versions SET facts_json = NULL")  # as a store made before them

    service = await TemplateService.open(settings)
    try:
        assert (await service.render("hello", {"who": "Ada"})).text == expected
        assert (await service.render("dated", {"who": "Ada"})).text == expected
    finally:
        await service.close()  # writes what the first reads found
    facts = dict(
        query(
            settings,
            "SELECT t.name, v.facts_json IS NOT NULL FROM templates t JOIN template_versions v ON v.template_id = t.id",
        )
    )
    assert facts == {"hello": 1, "dated": 0}  # a date has no exact JSON form: that one is parsed each time


async def test_the_index_follows_every_kind_of_write(settings: Settings, tmp_path: Path) -> None:
    service = await TemplateService.open(settings)
    try:
        await service.create(template_source(description="Greets a walrus."), name="walrus")
        await service.create(template_source(description="Greets a penguin."), name="penguin")
        await service.update("walrus", template_source(description="Greets a narwhal."))
        assert await found(service, "walrus") == ["walrus"]  # by its name, no longer by its description
        assert await found(service, "narwhal") == ["walrus"]
        await service.delete("penguin")
        assert await found(service, "penguin") == []
        await service.restore("penguin")
        assert await found(service, "penguin") == ["penguin"]
        await service.delete("penguin")
        folder = tmp_path / "files"
        folder.mkdir()
        (folder / "penguin.md").write_text(template_source(description="Greets a puffin."), encoding="utf-8")
        assert (await import_path(service, folder)).updated == ["penguin"]  # restored with a new version
        assert (await found(service, "puffin"), await found(service, "penguin")) == (["penguin"], ["penguin"])
        await service.update("walrus", template_source(description="Greets a seal.", extra="internal: true\n"))
        assert await found(service, "seal") == []
        await service.rollback("walrus", 2)
        assert await found(service, "narwhal") == ["walrus"]
        hit = (await service.search("narwhal")).results[0]
        assert "**narwhal**" in hit.snippet.lower()
        check_index(settings)
        assert query(settings, "SELECT count(*) FROM templates_fts") == [(2,)]
    finally:
        await service.close()


def downgrade_to(settings: Settings, revision: str) -> None:
    engine = create_engine(f"sqlite:///{settings.sqlite_path}")
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), revision)
    finally:
        engine.dispose()


async def test_a_store_made_before_upgrades_and_downgrades_with_its_index(settings: Settings) -> None:
    service = await TemplateService.open(settings)
    try:
        await service.create(template_source(description="Greets a walrus."), name="walrus")
        await service.create(template_source(description="Greets a penguin."), name="penguin")
    finally:
        await service.close()
    downgrade_to(settings, "0004_internal")
    assert query(settings, "SELECT count(*) FROM templates_fts") == [(2,)]  # a plain FTS5 table again
    assert query(settings, "SELECT count(*) FROM templates_fts WHERE templates_fts MATCH 'walrus'") == [(1,)]
    columns = [row[1] for row in query(settings, "PRAGMA table_info(template_versions)")]
    assert "facts_json" not in columns

    service = await TemplateService.open(settings)  # migrates to the head again
    try:
        assert await found(service, "penguin") == ["penguin"]
        await service.update("penguin", template_source(description="Greets an emperor penguin."))
        assert await found(service, "emperor") == ["penguin"]
        check_index(settings)
    finally:
        await service.close()
