"""Walking a paged listing to its end: one iterator instead of a ``while … next_cursor`` loop per caller."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

from .store.cursors import MAX_PAGE

if TYPE_CHECKING:
    from .store import Page, TemplateSummary
    from .store.records import Kind

T = TypeVar("T")


class TemplateListing(Protocol):
    """What :func:`iter_templates` reads pages from (the service)."""

    async def list_templates(
        self,
        *,
        category: str | None = None,
        tag: str | None = None,
        cursor: str | None = None,
        limit: int = 100,
        include_deleted: bool = False,
        kind: Kind | None = "prompt",
        include_internal: bool = False,
    ) -> Page[TemplateSummary]:
        """One page of templates, ordered by name."""
        ...


async def walk_pages(
    fetch: Callable[[str | None], Awaitable[tuple[Sequence[T], str | None]]],
) -> AsyncGenerator[T, None]:
    """Every item of a listing whose ``fetch(cursor)`` gives a page and the next cursor (None at the end)."""
    cursor: str | None = None
    while True:
        items, cursor = await fetch(cursor)
        for item in items:
            yield item
        if cursor is None:
            return


def iter_templates(
    service: TemplateListing,
    *,
    category: str | None = None,
    tag: str | None = None,
    include_deleted: bool = False,
    kind: Kind | None = "prompt",
    include_internal: bool = False,
) -> AsyncGenerator[TemplateSummary, None]:
    """Every template matching the filters, ordered by name, read a page at a time."""

    async def fetch(cursor: str | None) -> tuple[Sequence[TemplateSummary], str | None]:
        page = await service.list_templates(
            category=category,
            tag=tag,
            cursor=cursor,
            limit=MAX_PAGE,
            include_deleted=include_deleted,
            kind=kind,
            include_internal=include_internal,
        )
        return page.items, page.next_cursor

    return walk_pages(fetch)
