"""The library page: every template, searched as you type, filtered, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from ..errors import PbaError
from ..labels import LabelView
from .context import error_page, page, service_of
from .security import viewer_of

MAX_QUERY = 500  # characters of a query; a longer one is cut (search ranks by a few words anyway)


@dataclass
class Row:
    """One template as the library lists it."""

    name: str
    title: str | None
    description: str
    category: str | None
    tags: list[str]
    version: int
    deleted: bool = False
    snippet: str | None = None
    fuzzy: bool = False


def _clean(value: str | None, limit: int = 200) -> str:
    return (value or "").strip()[:limit]


async def library(request: Request) -> Response:
    """``GET /``: the list (or the search results) and the filters; ``fragment=1`` returns only the results."""
    params = request.query_params
    query = _clean(params.get("q"), MAX_QUERY)
    category = _clean(params.get("category")).lower() or None
    tag = _clean(params.get("tag")).lower() or None
    label = viewer_of(request).label or _clean(params.get("label"), 100).lower() or None
    cursor = _clean(params.get("cursor"), 400) or None
    show_deleted = params.get("deleted") == "1"
    fragment = params.get("fragment") == "1"
    notice = None
    next_cursor = None
    try:
        service = await service_of(request)
        page_size = service.settings.web_page_size  # the listing walks pages by cursor: 100,000 cost the same
        view = LabelView.of(label)  # a label filter shows each template at that label's version
        if query:
            found = await service.search(
                query, category=category, tags=[tag] if tag else None, limit=page_size, view=view
            )
            notice = found.notice
            rows = [
                Row(h.name, h.title, h.description, h.category, h.tags, h.version, snippet=h.snippet, fuzzy=h.fuzzy)
                for h in found.results
            ]
        else:
            listing = await service.list_templates(
                category=category,
                tag=tag,
                cursor=cursor,
                limit=page_size,
                include_deleted=show_deleted,
                view=view,  # full pages of the labelled templates; a label's clients never see a deleted one
            )
            rows = [
                Row(i.name, i.title, i.description, i.category, i.tags, i.version, deleted=i.deleted)
                for i in listing.items
            ]
            next_cursor = listing.next_cursor
    except PbaError as exc:
        return error_page(request, exc, fragment=fragment)
    filters = {
        "q": query,
        "category": category or "",
        "tag": tag or "",
        "label": label or "",
        "deleted": "1" if show_deleted else "",
    }
    kept = {k: v for k, v in filters.items() if v}
    context: dict[str, Any] = {
        "rows": rows,
        "query": query,
        "category": category or "",
        "tag": tag or "",
        "label": label or "",
        "show_deleted": show_deleted,
        "notice": notice,
        "searching": bool(query),
        "page_size": page_size,
        "next_link": f"/?{urlencode({**kept, 'cursor': next_cursor})}" if next_cursor else None,
        "first_link": f"/?{urlencode(kept)}" if cursor else None,
    }
    return page(request, "results.html" if fragment else "library.html", **context)
