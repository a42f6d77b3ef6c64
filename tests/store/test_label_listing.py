"""Listing through a label view: the store filters before it pages, so every page is full until the last and a
cursor walk yields exactly the templates the view shows, each at the version it shows (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import make_settings
from labelled_library import CATEGORY, LABEL, TAG, chunks, description_of, fill, shown
from pba_tunnel.labels import LabelView
from pba_tunnel.service import TemplateService

pytestmark = pytest.mark.anyio


async def pages(service: TemplateService, view: LabelView, size: int, **filters: Any) -> list[list[tuple[str, int]]]:
    """Every page of the listing through ``view``, following next_cursor; descriptions checked on the way."""
    walked: list[list[tuple[str, int]]] = []
    cursor = None
    while True:
        page = await service.list_templates(cursor=cursor, limit=size, view=view, **filters)
        assert all(t.description == description_of(t.name, t.version) for t in page.items)
        walked.append([(t.name, t.version) for t in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return walked


async def test_a_label_view_lists_full_pages_of_its_templates_at_their_labelled_versions(
    home: Path, backend_env: dict[str, str]
) -> None:
    service = await TemplateService.open(make_settings(home, **backend_env))
    try:
        await fill(service)
        view = LabelView(LABEL)

        assert await pages(service, view, 2) == chunks(shown(), 2)  # 5 of 30 labelled and live: 2, 2, 1
        assert await pages(service, view, 5) == [shown()]  # exactly one full page: no cursor to an empty one
        assert await pages(service, view, 2, include_deleted=True) == chunks(shown(), 2)  # its clients cannot see it
        assert await pages(service, LabelView(LABEL, fallback_latest=True), 4) == chunks(shown(fallback=True), 4)
        assert await pages(service, view, 2, category=CATEGORY) == chunks(shown(category=CATEGORY), 2)
        assert await pages(service, view, 1, tag=TAG) == chunks(shown(tag=TAG), 1)
        assert await pages(service, LabelView("staging"), 2) == [[]]  # a label nobody set: one empty page
        newest = await service.list_templates(limit=3)  # without a view, as before: each at its newest
        assert [(t.name, t.version) for t in newest.items] == [("t00", 2), ("t01", 2), ("t02", 1)]
    finally:
        await service.close()
