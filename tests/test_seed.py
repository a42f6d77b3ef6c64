"""First start seeds the store from the starter library, once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from conftest import STARTER, make_settings, template_source
from pba_tunnel.seed import SEEDED_KEY, starter_library
from pba_tunnel.service import TemplateService
from pba_tunnel.startup import open_service

pytestmark = pytest.mark.anyio

STARTER_PROMPTS = sorted(p.stem for p in STARTER.rglob("*.md") if "_partials" not in p.parts)
INSTRUCTIONS = sorted(p.stem for p in (STARTER / "enhance").glob("enhance-*.md"))  # internal templates


def test_the_starter_library_of_a_checkout_is_the_repositorys_templates_folder() -> None:
    assert starter_library().resolve() == STARTER.resolve()


async def all_names(service: TemplateService, *, include_deleted: bool = False) -> list[str]:
    page = await service.list_templates(limit=1000, include_deleted=include_deleted, include_internal=True)
    return [t.name for t in page.items]


async def test_first_start_seeds_the_starter_library(home: Path, backend_env: dict[str, str]) -> None:
    service = await open_service(make_settings(home, seed=True, **backend_env))
    try:
        names = await all_names(service)
        assert len(names) >= 30
        assert names == STARTER_PROMPTS
        listed = [t.name for t in (await service.list_templates(limit=1000)).items]
        assert (len(listed), len(INSTRUCTIONS)) == (35, 5)  # the README's counts
        assert listed == [n for n in STARTER_PROMPTS if n not in INSTRUCTIONS]
        assert [(await service.get(n)).internal for n in INSTRUCTIONS] == [True] * 5
        review = await service.get("code-review")
        assert (review.category, review.version, review.origin) == ("development", 1, "seed")
        assert review.source == (STARTER / "development" / "code-review.md").read_text(encoding="utf-8")
        assert await service.get_meta(SEEDED_KEY) is not None
        rendered = await service.render("code-review", {"language": "python", "code": "x=1"})
        assert [m.role for m in rendered.messages] == ["system", "user"]
        assert "General answer rules:" in rendered.messages[1].content  # the partial was seeded too
    finally:
        await service.close()


async def test_seeding_happens_once_even_after_every_template_is_deleted(
    home: Path, backend_env: dict[str, str]
) -> None:
    settings = make_settings(home, seed=True, **backend_env)
    service = await open_service(settings)
    try:
        for name in await all_names(service):
            await service.delete(name)
        assert await all_names(service) == []
    finally:
        await service.close()

    reopened = await open_service(settings)
    try:
        assert await all_names(reopened) == []
        assert await all_names(reopened, include_deleted=True) == STARTER_PROMPTS
        assert [v.version for v in await reopened.history("code-review")] == [1]
    finally:
        await reopened.close()


async def test_a_store_that_already_holds_templates_is_not_seeded(home: Path) -> None:
    unseeded = await TemplateService.open(make_settings(home))
    try:
        await unseeded.create(template_source(), name="mine")
    finally:
        await unseeded.close()

    service = await open_service(make_settings(home, seed=True))
    try:
        assert await all_names(service) == ["mine"]
        assert await service.get_meta(SEEDED_KEY) is not None
    finally:
        await service.close()


async def test_seeding_can_be_turned_off(service: TemplateService) -> None:
    assert await all_names(service) == []
    assert await service.get_meta(SEEDED_KEY) is None


async def test_a_seed_that_fails_midway_leaves_nothing_and_the_next_start_seeds_again(home: Path) -> None:
    settings = make_settings(home)
    empty = await TemplateService.open(settings)  # the schema, without the starter library
    await empty.close()
    database = home / "pba-tunnel.db"
    with sqlite3.connect(database) as db:  # the 21st template cannot be written, as on a disk that fills up
        db.execute(
            "CREATE TRIGGER fill_up BEFORE INSERT ON templates WHEN (SELECT count(*) FROM templates) >= 20 "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
    with pytest.raises(IntegrityError, match="database or disk is full"):
        await open_service(make_settings(home, seed=True))
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM templates").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM store_meta WHERE key = ?", (SEEDED_KEY,)).fetchone() == (0,)
        db.execute("DROP TRIGGER fill_up")  # space is freed

    service = await open_service(make_settings(home, seed=True))
    try:
        assert await all_names(service) == STARTER_PROMPTS
        assert await service.get_meta(SEEDED_KEY) is not None
    finally:
        await service.close()
