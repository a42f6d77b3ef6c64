"""The versioned store through the service API: versions, conflicts, listing, history, diff, rollback,
soft delete, and the schema that Alembic creates (real SQLite files in temporary folders, and each test again on
a fresh PostgreSQL database)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from conftest import make_settings, query_rows, template_source
from pba_tunnel.config import Settings
from pba_tunnel.errors import ConflictError, InvalidTemplateError, NotFoundError
from pba_tunnel.service import TemplateService, upgrade_store
from pba_tunnel.store.migrate import HEAD_REVISION, MIGRATIONS_DIR, alembic_config

pytestmark = pytest.mark.anyio

V1 = template_source(body="user:\nHello {{ who }}!")
V2 = template_source(body="user:\nHello there, {{ who }}!")
V3 = template_source(body="user:\nGood morning, {{ who }}.")


@pytest.fixture
def settings(home: Path, backend_env: dict[str, str]) -> Settings:
    """An unseeded store on each backend."""
    return make_settings(home, **backend_env)


def database(settings: Settings) -> Path:
    assert settings.sqlite_path is not None
    return settings.sqlite_path


async def version_rows(settings: Settings) -> list[tuple[object, ...]]:
    """Every stored version, read straight from the database."""
    return await query_rows(
        settings.database_url,
        "SELECT t.name, v.version, v.source FROM template_versions v JOIN templates t ON t.id = v.template_id "
        "ORDER BY t.name, v.version",
    )


# -- create and update --------------------------------------------------------------------------------


async def test_create_stores_version_1(service: TemplateService) -> None:
    result = await service.create(V1, name="greet")
    assert (result.name, result.version, result.created, result.changed) == ("greet", 1, True, True)
    stored = await service.get("greet")
    assert (stored.name, stored.version, stored.current_version) == ("greet", 1, 1)
    assert (stored.source, stored.description, stored.origin, stored.message) == (
        V1,
        "Greets someone.",
        "cli",
        "created",
    )
    assert [a.name for a in stored.arguments] == ["who"]
    assert stored.deleted is False


async def test_create_refuses_a_taken_name(service: TemplateService) -> None:
    await service.create(V1, name="greet")
    with pytest.raises(ConflictError) as caught:
        await service.create(V2, name="greet")
    assert caught.value.code == "conflict"
    assert caught.value.message == ("a template named 'greet' already exists: update it instead, or pick another name")
    assert (await service.get("greet")).source == V1


async def test_create_refuses_an_invalid_source_and_stores_nothing(service: TemplateService) -> None:
    with pytest.raises(InvalidTemplateError):
        await service.create(template_source(body="Hello {{ nobody }}"), name="greet")
    with pytest.raises(NotFoundError):
        await service.get("greet")


async def test_update_with_new_content_adds_a_version(service: TemplateService) -> None:
    await service.create(V1, name="greet")
    result = await service.update("greet", V2, message="warmer")
    assert (result.version, result.created, result.changed) == (2, False, True)
    assert (await service.get("greet")).source == V2
    assert (await service.get("greet", 1)).source == V1
    third = await service.update("greet", V3)
    assert third.version == 3
    current = await service.get("greet")
    assert (current.version, current.current_version, current.message) == (3, 3, None)
    old = await service.get("greet", 2)
    assert (old.version, old.current_version, old.source, old.message) == (2, 3, V2, "warmer")


async def test_update_with_the_same_content_adds_no_version(service: TemplateService) -> None:
    await service.create(V1, name="greet")
    result = await service.update("greet", V1)
    assert (result.version, result.changed) == (1, False)
    assert [v.version for v in await service.history("greet")] == [1]


async def test_a_stale_expected_version_is_refused(service: TemplateService) -> None:
    await service.create(V1, name="greet")
    assert (await service.update("greet", V2, expected_version=1)).version == 2
    with pytest.raises(ConflictError) as caught:
        await service.update("greet", V3, expected_version=1)
    assert caught.value.message == (
        "template 'greet' is at version 2, not 1: someone changed it meanwhile; "
        "get the current version and apply your change again"
    )
    assert (await service.get("greet")).source == V2
    assert (await service.update("greet", V3, expected_version=2)).version == 3


async def test_update_of_an_unknown_template_is_not_found(service: TemplateService) -> None:
    with pytest.raises(NotFoundError) as caught:
        await service.update("ghost", V1)
    assert caught.value.code == "not_found"
    assert caught.value.message == "no template named 'ghost'"


async def test_update_cannot_rename(service: TemplateService) -> None:
    await service.create(V1, name="greet")
    with pytest.raises(InvalidTemplateError) as caught:
        await service.update("greet", template_source(extra="name: welcome\n"))
    assert caught.value.field == "name"


# -- reads --------------------------------------------------------------------------------------------


async def test_get_of_a_missing_version_names_the_versions_that_exist(service: TemplateService) -> None:
    await service.create(V1, name="greet")
    await service.update("greet", V2)
    with pytest.raises(NotFoundError) as caught:
        await service.get("greet", 9)
    assert caught.value.message == "template 'greet' has no version 9; its versions are 1..2"


async def test_render_uses_the_current_or_a_given_version(service: TemplateService) -> None:
    await service.create(V1, name="greet")
    await service.update("greet", V2)
    current = await service.render("greet", {"who": "Ada"})
    assert (current.version, current.text) == (2, "Hello there, Ada!")
    old = await service.render("greet", {"who": "Ada"}, version=1)
    assert (old.version, old.text) == (1, "Hello Ada!")


def listed(source_category: str | None, tags: str) -> str:
    extra = f"tags: [{tags}]\n" + (f"category: {source_category}\n" if source_category else "")
    return template_source(extra=extra)


async def test_list_filters_by_category_and_tag(service: TemplateService) -> None:
    await service.create(listed("dev", "review, quality"), name="review")
    await service.create(listed("dev/python", "quality"), name="pylint")
    await service.create(listed("ops", "review"), name="postmortem")
    await service.create(listed(None, "misc"), name="plain")

    async def names(**filters: str) -> list[str]:
        return [t.name for t in (await service.list_templates(**filters)).items]  # type: ignore[arg-type]

    assert await names() == ["plain", "postmortem", "pylint", "review"]
    assert await names(category="dev") == ["pylint", "review"]
    assert await names(category="dev/python") == ["pylint"]
    assert await names(category="de") == []
    assert await names(tag="review") == ["postmortem", "review"]
    assert await names(tag="quality", category="dev") == ["pylint", "review"]
    assert await names(tag="quality", category="ops") == []
    summary = (await service.list_templates(category="ops")).items[0]
    assert (summary.category, summary.tags, summary.version, summary.description) == (
        "ops",
        ["review"],
        1,
        "Greets someone.",
    )


async def test_tag_filters_follow_the_current_version(service: TemplateService) -> None:
    await service.create(listed(None, "old"), name="greet")
    await service.update("greet", listed(None, "new"))
    assert [t.name for t in (await service.list_templates(tag="old")).items] == []
    assert [t.name for t in (await service.list_templates(tag="new")).items] == ["greet"]


@pytest.mark.parametrize("backend", ["sqlite"])  # 250 writes; paging on PostgreSQL is the next test's
async def test_list_walks_250_templates_page_by_page(service: TemplateService) -> None:
    names = [f"t{i:03d}" for i in range(250)]
    for name in reversed(names):
        await service.create(template_source(body=f"Hello {{{{ who }}}} from {name}"), name=name)
    seen: list[str] = []
    sizes: list[int] = []
    cursor = None
    while True:
        page = await service.list_templates(cursor=cursor, limit=100)
        seen.extend(t.name for t in page.items)
        sizes.append(len(page.items))
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sizes == [100, 100, 50]
    assert seen == names


async def test_a_page_that_ends_exactly_at_the_last_item_has_no_next_cursor(service: TemplateService) -> None:
    for name in ("a", "b", "c", "d"):
        await service.create(V1, name=name)
    first = await service.list_templates(limit=2)
    assert [t.name for t in first.items] == ["a", "b"]
    second = await service.list_templates(limit=2, cursor=first.next_cursor)
    assert ([t.name for t in second.items], second.next_cursor) == (["c", "d"], None)


async def test_a_malformed_cursor_is_refused(service: TemplateService) -> None:
    with pytest.raises(NotFoundError) as caught:
        await service.list_templates(cursor="not a cursor!")
    assert caught.value.message == "invalid cursor 'not a cursor!': it is not a next_cursor this server gave"


# -- history, diff, rollback ---------------------------------------------------------------------------


async def test_history_lists_every_version_oldest_first(service: TemplateService) -> None:
    await service.create(V1, name="greet")
    await service.update("greet", V2, message="warmer", origin="mcp")
    history = await service.history("greet")
    assert [(v.version, v.origin, v.message, v.current) for v in history] == [
        (1, "cli", "created", False),
        (2, "mcp", "warmer", True),
    ]
    assert history[0].created_at <= history[1].created_at
    with pytest.raises(NotFoundError):
        await service.history("ghost")


async def test_diff_between_versions_is_a_unified_diff(service: TemplateService) -> None:
    await service.create(V1, name="greet")
    await service.update("greet", V2)
    assert await service.diff("greet", 1, 2) == (
        "--- greet@1\n"
        "+++ greet@2\n"
        "@@ -5,4 +5,4 @@\n"
        "     description: Who to greet\n"
        " ---\n"
        " user:\n"
        "-Hello {{ who }}!\n"
        "+Hello there, {{ who }}!\n"
    )
    assert await service.diff("greet", 2, 2) == ""


async def test_rollback_adds_a_version_equal_to_the_old_one(service: TemplateService, settings: Settings) -> None:
    await service.create(V1, name="greet")
    await service.update("greet", V2)
    result = await service.rollback("greet", 1)
    assert (result.version, result.changed) == (3, True)
    history = await service.history("greet")
    assert [v.version for v in history] == [1, 2, 3]
    assert history[2].content_hash == history[0].content_hash
    assert history[2].message == "rollback to version 1"
    assert (await service.get("greet")).source == V1
    assert (await service.render("greet", {"who": "Ada"})).text == "Hello Ada!"
    assert await version_rows(settings) == [("greet", 1, V1), ("greet", 2, V2), ("greet", 3, V1)]


async def test_rollback_to_the_current_content_adds_nothing(service: TemplateService) -> None:
    await service.create(V1, name="greet")
    await service.update("greet", V2)
    await service.rollback("greet", 1)
    again = await service.rollback("greet", 1)
    assert (again.version, again.changed) == (3, False)


# -- soft delete -----------------------------------------------------------------------------------------


async def test_delete_is_soft_and_restore_brings_everything_back(service: TemplateService, settings: Settings) -> None:
    await service.create(V1, name="greet")
    await service.update("greet", V2)
    await service.create(V1, name="other")

    assert await service.delete("greet") is True
    assert await service.delete("greet") is False
    with pytest.raises(NotFoundError) as caught:
        await service.get("greet")
    assert caught.value.message == "template 'greet' is deleted"
    with pytest.raises(NotFoundError):
        await service.render("greet", {"who": "Ada"})
    with pytest.raises(NotFoundError):
        await service.update("greet", V3)
    with pytest.raises(ConflictError) as conflict:
        await service.create(V3, name="greet")
    assert (
        conflict.value.message == "a template named 'greet' already exists (deleted): restore it or pick another name"
    )
    assert [t.name for t in (await service.list_templates()).items] == ["other"]
    every = (await service.list_templates(include_deleted=True)).items
    assert [(t.name, t.deleted) for t in every] == [("greet", True), ("other", False)]
    assert [v.version for v in await service.history("greet")] == [1, 2]
    assert await service.diff("greet", 1, 2) != ""

    assert await service.restore("greet") is True
    assert await service.restore("greet") is False
    restored = await service.get("greet")
    assert (restored.version, restored.source, restored.deleted) == (2, V2, False)
    assert (await service.render("greet", {"who": "Ada"})).text == "Hello there, Ada!"
    assert await version_rows(settings) == [("greet", 1, V1), ("greet", 2, V2), ("other", 1, V1)]


async def test_delete_of_an_unknown_template_is_not_found(service: TemplateService) -> None:
    with pytest.raises(NotFoundError):
        await service.delete("ghost")
    with pytest.raises(NotFoundError):
        await service.restore("ghost")


async def test_no_operation_ever_removes_a_version(service: TemplateService, settings: Settings) -> None:
    await service.create(V1, name="greet")
    await service.update("greet", V2)
    await service.update("greet", V2)
    await service.rollback("greet", 1)
    await service.delete("greet")
    await service.restore("greet")
    await service.update("greet", V3)
    await service.delete("greet")
    assert await version_rows(settings) == [("greet", 1, V1), ("greet", 2, V2), ("greet", 3, V1), ("greet", 4, V3)]


# -- schema ---------------------------------------------------------------------------------------------


def test_head_revision_matches_the_alembic_head() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.dir == str(MIGRATIONS_DIR)
    assert script.get_heads() == [HEAD_REVISION]


TABLES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
    "postgresql": "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()",
}


@pytest.mark.usefixtures("service")  # it creates the store
async def test_the_schema_is_created_by_the_alembic_migrations(settings: Settings, backend: str) -> None:
    assert await upgrade_store(settings.database_url) is False  # already at head
    revision = await query_rows(settings.database_url, "SELECT version_num FROM alembic_version")
    tables = {row[0] for row in await query_rows(settings.database_url, TABLES[backend])}
    assert revision == [(HEAD_REVISION,)]
    search_index = {"sqlite": "templates_fts", "postgresql": "template_search"}[backend]
    assert {"templates", "template_versions", "template_tags", "render_events", "store_meta", search_index} <= tables


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_the_sqlite_file_is_in_wal_mode(service: TemplateService, settings: Settings) -> None:
    await service.create(V1, name="greet")
    with sqlite3.connect(database(settings)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_every_read_of_a_version_shows_all_labels_of_its_template(service: TemplateService) -> None:
    # One statement brings the version and the labels (a row per label): none may be lost or repeated.
    await service.create(V1, name="greet")
    await service.update("greet", V2)
    await service.create(V1.replace("Hello", "Hey"), name="plain")
    for label, version in (("staging", 2), ("production", 1), ("canary", 2)):
        await service.set_label("greet", label, version=version, author="ann", can_admin=True)
    labels = {"canary": 2, "production": 1, "staging": 2}

    current, first, labelled = (
        await service.get("greet"),
        await service.get("greet", 1),
        await service.get("greet", label="production"),
    )

    assert [(s.version, s.source, s.labels) for s in (current, first, labelled)] == [
        (2, V2, labels),
        (1, V1, labels),
        (1, V1, labels),
    ]
    assert list(current.labels) == ["canary", "production", "staging"]
    assert (await service.get("plain")).labels == {}
