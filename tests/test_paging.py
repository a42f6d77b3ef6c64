"""One iterator walks every paged listing to its end."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from conftest import template_source
from pba_tunnel.paging import iter_templates, walk_pages
from pba_tunnel.service import TemplateService

pytestmark = pytest.mark.anyio


async def test_walk_pages_follows_the_cursor_until_there_is_none() -> None:
    pages = {None: (["a", "b"], "c1"), "c1": (["c"], "c2"), "c2": ([], "c3"), "c3": (["d"], None)}
    asked: list[str | None] = []

    async def fetch(cursor: str | None) -> tuple[Sequence[str], str | None]:
        asked.append(cursor)
        return pages[cursor]

    assert [item async for item in walk_pages(fetch)] == ["a", "b", "c", "d"]
    assert asked == [None, "c1", "c2", "c3"]


async def test_walk_pages_fetches_no_page_beyond_what_is_used() -> None:
    asked: list[str | None] = []

    async def fetch(cursor: str | None) -> tuple[Sequence[int], str | None]:
        asked.append(cursor)
        return [1, 2], "more"

    async for item in walk_pages(fetch):
        if item == 2:
            break
    assert asked == [None]


async def test_iter_templates_filters_like_a_page_does(service: TemplateService) -> None:
    for name, category in [("b-tool", "dev"), ("a-note", "writing"), ("c-tool", "dev/python")]:
        await service.create(template_source(), name=name, category=category)
    await service.save(service.check_partial("_partials/sig.md", "-- me"), origin="test")
    await service.delete("b-tool")
    assert [t.name async for t in iter_templates(service)] == ["a-note", "c-tool"]
    assert [t.name async for t in iter_templates(service, category="dev", include_deleted=True)] == ["b-tool", "c-tool"]
    assert [t.name async for t in iter_templates(service, kind="partial")] == ["_partials/sig.md"]
    assert [t.name async for t in iter_templates(service, kind=None, include_deleted=True)] == [
        "_partials/sig.md",
        "a-note",
        "b-tool",
        "c-tool",
    ]
    rows, _cursor = await service.prompt_rows()
    assert [row.name for row in rows] == ["a-note", "c-tool"]
