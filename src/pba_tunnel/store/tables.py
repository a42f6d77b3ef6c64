"""The main tables (re-exported from ``models``), and conversion between their rows and the records."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, FromClause, Integer, Select, and_, bindparam, case, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..templates.spec import ArgumentSpec
from .cursors import decode_cursor, encode_cursor
from .models import LABELS as LABELS  # the tables' home is models; the store's parts import them from here
from .models import TEMPLATES as TEMPLATES
from .models import VERSIONS as VERSIONS
from .records import StoredTemplate, TemplateSummary, TemplateWrite


@dataclass(frozen=True)
class FullTextHit:
    """A full-text match: the template, its score (higher is better), matched fields and a snippet."""

    summary: TemplateSummary
    score: float
    matched: list[str]
    snippet: str


class PromptRow(NamedTuple):
    """A template as prompts/list needs it; arguments stay JSON until someone reads them."""

    name: str
    title: str | None
    description: str
    arguments_json: str


class PromptLabel(NamedTuple):
    """A prompt's name and title: what typo tolerance compares a query with."""

    name: str
    title: str | None


NamedRow = TypeVar("NamedRow", PromptRow, PromptLabel)


# The version columns stored_from_row reads beside a template row.
VERSION_COLUMNS = (
    VERSIONS.c.source,
    VERSIONS.c.content_hash,
    VERSIONS.c.message,
    VERSIONS.c.origin,
    VERSIONS.c.author,
    VERSIONS.c.created_at.label("v_created_at"),
)


def update_row(table: Any, row_id: int, **values: Any) -> Any:
    """UPDATE one row by id."""
    return update(table).where(table.c.id == row_id).values(**values)


def denormalized(item: TemplateWrite) -> dict[str, Any]:
    """The template row's copies of a version's fields (for listing without reading versions)."""
    return {
        "kind": item.kind,
        "category": item.category,
        "title": item.title,
        "description": item.description,
        "tags_json": json.dumps(item.tags),
        "arguments_json": json.dumps([a.model_dump(exclude_none=True) for a in item.arguments]),
        "internal": item.internal,
    }


async def labels_of(connection: AsyncConnection, template_id: int) -> dict[str, int]:
    """Every label of a template and the version it points at."""
    query = select(LABELS.c.label, LABELS.c.version).where(LABELS.c.template_id == template_id)
    return {row.label: row.version for row in await connection.execute(query.order_by(LABELS.c.label))}


def stored_from_row(row: Any, version: int, labels: dict[str, int] | None = None) -> StoredTemplate:
    """A template row joined with one of its versions (selected with VERSION_COLUMNS)."""
    return StoredTemplate(
        **summary_fields(row),
        version=version,
        current_version=row["current_version"],
        source=row["source"],
        content_hash=row["content_hash"],
        message=row["message"],
        origin=row["origin"],
        author=row["author"],
        created_at=row["v_created_at"],
        labels=labels or {},
    )


def summary_fields(row: Any) -> dict[str, Any]:
    """The TemplateSummary fields of a template row."""
    return {
        "name": row["name"],
        "kind": row["kind"],
        "title": row["title"],
        "description": row["description"],
        "category": row["category"],
        "tags": json.loads(row["tags_json"]),
        "arguments": [ArgumentSpec.model_validate(a) for a in json.loads(row["arguments_json"])],
        "internal": bool(row["internal"]),
        "deleted": row["deleted_at"] is not None,
        "updated_at": row["updated_at"],
    }


class LabelShown(NamedTuple):
    """The templates a client that sees one label (bind ``label``) is shown, and the columns that label's version
    decides: its title, description, arguments and number (the newest version's, for a template shown by fallback)."""

    source: FromClause
    title: ColumnElement[Any]
    description: ColumnElement[Any]
    arguments_json: ColumnElement[Any]
    version: ColumnElement[Any]


def label_shown(fallback: bool) -> LabelShown:
    """The templates with the label bound as ``label`` at its version (with ``fallback``, the rest at their newest)."""
    joined = and_(LABELS.c.template_id == TEMPLATES.c.id, LABELS.c.label == bindparam("label"))
    labelled = LABELS.c.version.is_not(None)
    return LabelShown(
        TEMPLATES.outerjoin(LABELS, joined) if fallback else TEMPLATES.join(LABELS, joined),
        case((labelled, LABELS.c.title), else_=TEMPLATES.c.title),
        case((labelled, LABELS.c.description), else_=TEMPLATES.c.description),
        case((labelled, LABELS.c.arguments_json), else_=TEMPLATES.c.arguments_json),
        case((labelled, LABELS.c.version), else_=TEMPLATES.c.current_version),
    )


class PromptPages(NamedTuple):
    """The statements of a listing of prompts by name: the first page, and a page after a cursor (bind ``limit``,
    ``after`` and what the base query binds). Built once: making them costs more than running them."""

    first: Select[Any]
    after: Select[Any]


def prompt_pages(query: Select[Any]) -> PromptPages:
    """The live, listed prompts of ``query`` (which selects a :class:`PromptRow`'s or :class:`PromptLabel`'s
    columns), in pages by name."""
    listed = (
        query.where(TEMPLATES.c.kind == "prompt", TEMPLATES.c.deleted_at.is_(None), TEMPLATES.c.internal.is_(False))
        .order_by(TEMPLATES.c.name)
        .limit(bindparam("limit", type_=Integer))
    )
    return PromptPages(listed, listed.where(TEMPLATES.c.name > bindparam("after")))


async def prompt_row_page(
    connection: AsyncConnection, pages: PromptPages, cursor: str | None, limit: int, **values: Any
) -> tuple[list[PromptRow], str | None]:
    """One page of ``pages`` as prompt rows, and the cursor of the next (None: this is the last)."""
    return await page_of(connection, pages, PromptRow, cursor, limit, **values)


async def page_of(
    connection: AsyncConnection, pages: PromptPages, row: type[NamedRow], cursor: str | None, limit: int, **values: Any
) -> tuple[list[NamedRow], str | None]:
    """One page of ``pages`` (which select ``row``'s columns), and the cursor of the next (None: this is the last)."""
    if cursor:
        query, values = pages.after, {**values, "after": decode_cursor(cursor), "limit": limit + 1}
    else:
        query, values = pages.first, {**values, "limit": limit + 1}
    # all() fetches the page at once; iterating the result would fetch it row by row through three calls each
    rows = [row(*found) for found in (await connection.execute(query, values)).all()]
    next_cursor = encode_cursor(rows[limit - 1].name) if len(rows) > limit else None
    return rows[:limit], next_cursor
