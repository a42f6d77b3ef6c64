"""Reading templates: one version, a page of them, bare prompt rows, counts, history and sources."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..errors import LabelNotFoundError, NotFoundError, VersionNotFoundError
from .connections import StoreBase
from .cursors import MAX_PAGE, decode_cursor, encode_cursor
from .models import TAGS
from .records import Kind, Page, StoredTemplate, TemplateSummary, VersionInfo
from .tables import LABELS as _L
from .tables import TEMPLATES as _T
from .tables import (
    VERSION_COLUMNS,
    LabelShown,
    PromptRow,
    label_shown,
    labels_of,
    prompt_pages,
    prompt_row_page,
    stored_from_row,
    summary_fields,
)
from .tables import VERSIONS as _V

# One version of a template with all its labels (an outer join, one row per label): a read of one statement.
# Built once: making a statement this size costs more than running it.
_EVERY_LABEL = _L.alias("every_label")
_VERSION = (
    select(
        _T,
        _V.c.version.label("v_version"),
        *VERSION_COLUMNS,
        _V.c.facts_json.label("v_facts_json"),
        _EVERY_LABEL.c.label.label("l_label"),
        _EVERY_LABEL.c.version.label("l_version"),
    )
    .join(_V, _V.c.template_id == _T.c.id)
    .outerjoin(_EVERY_LABEL, _EVERY_LABEL.c.template_id == _T.c.id)
    .where(_T.c.name == bindparam("name"))
    .order_by(_EVERY_LABEL.c.label)
)
_PROMPT_PAGES = prompt_pages(select(_T.c.name, _T.c.title, _T.c.description, _T.c.arguments_json))
_CURRENT_VERSION = _VERSION.where(_V.c.version == _T.c.current_version)
_NUMBERED_VERSION = _VERSION.where(_V.c.version == bindparam("version"))
_LABELLED_VERSION = _VERSION.join(_L, and_(_L.c.template_id == _T.c.id, _L.c.label == bindparam("label"))).where(
    _V.c.version == _L.c.version
)


def _listing(shown: LabelShown | None) -> Select[Any]:
    """Template rows as a listing shows them, with the version shown as ``shown_version``: each at its newest
    version, or at the one a label shows (title, description and arguments from the label, category and time from
    that version; tags stay the newest version's, for the caller to replace where the shown version is older)."""
    if shown is None:
        return select(_T, _T.c.current_version.label("shown_version"))
    decided = {
        "title": shown.title,
        "description": shown.description,
        "arguments_json": shown.arguments_json,
        "category": _V.c.category,
        "updated_at": _V.c.created_at,
    }
    columns = [decided[c.name].label(c.name) if c.name in decided else c for c in _T.c]
    at_shown = shown.source.join(_V, and_(_V.c.template_id == _T.c.id, _V.c.version == shown.version))
    return select(*columns, shown.version.label("shown_version")).select_from(at_shown)


# By the fallback of the label seen (None: no label); the filters and the page are added per call.
_LISTINGS = {None: _listing(None), False: _listing(label_shown(False)), True: _listing(label_shown(True))}


class TemplateReads(StoreBase):
    """Queries that read templates and their versions."""

    async def get(
        self, name: str, version: int | None = None, *, include_deleted: bool = False, label: str | None = None
    ) -> StoredTemplate:
        """The current version of ``name`` (or ``version``, or the one ``label`` points at); NotFoundError names what
        is missing (LabelNotFoundError for a template without ``label``)."""
        return (await self.get_with_facts(name, version, include_deleted=include_deleted, label=label))[0]

    async def get_with_facts(
        self, name: str, version: int | None = None, *, include_deleted: bool = False, label: str | None = None
    ) -> tuple[StoredTemplate, str | None]:
        """``get``, with what validation found when the version was written (None: not known, parse it)."""
        values: dict[str, str | int]
        if label is not None:
            query, values = _LABELLED_VERSION, {"name": name, "label": label}
        elif version is not None:
            query, values = _NUMBERED_VERSION, {"name": name, "version": version}
        else:
            query, values = _CURRENT_VERSION, {"name": name}
        async with self._read_statement() as connection:
            rows = (await connection.execute(query, values)).mappings().all()
            if not rows:
                await self._raise_missing(connection, name, version)
                if label is None:
                    raise NotFoundError(f"template '{name}' has no current version", name=name)
                raise LabelNotFoundError(f"template '{name}' has no label '{label}'", name=name, label=str(label))
        row = rows[0]
        if row["deleted_at"] is not None and not include_deleted:
            raise NotFoundError(f"template '{name}' is deleted", name=name, deleted=True)
        labels = {r["l_label"]: r["l_version"] for r in rows if r["l_label"] is not None}
        return stored_from_row(row, row["v_version"], labels), row["v_facts_json"]

    async def _raise_missing(self, connection: AsyncConnection, name: str, version: int | None) -> None:
        current = (await connection.execute(select(_T.c.current_version).where(_T.c.name == name))).first()
        if current is None:
            raise NotFoundError(f"no template named '{name}'", name=name)
        if version is None:
            return  # the template exists: what is missing is the label
        raise VersionNotFoundError(
            f"template '{name}' has no version {version}; its versions are 1..{current[0]}",
            name=name,
            version=version,
            newest=current[0],
        )

    async def list_shown(
        self,
        *,
        category: str | None = None,
        tag: str | None = None,
        cursor: str | None = None,
        limit: int = 100,
        include_deleted: bool = False,
        kind: Kind | None = "prompt",
        include_internal: bool = False,
        label: str | None = None,
        fallback: bool = False,
    ) -> tuple[Page[TemplateSummary], set[str]]:
        """One page of templates ordered by name (internal ones only when asked). With ``label``: the templates a
        client that sees that label is shown, at that label's version (the rest at their newest with
        ``fallback``), and never a deleted one: such a client cannot reach it. Also the names shown at a version
        older than their newest: their tags are left empty (the stored ones are the newest version's) and ``tag``
        matched the newest tags, for the caller to redo."""
        limit = max(1, min(limit, MAX_PAGE))
        shown_category = _T.c.category if label is None else _V.c.category
        query = _LISTINGS[None if label is None else fallback].order_by(_T.c.name).limit(limit + 1)
        if kind is not None:
            query = query.where(_T.c.kind == kind)
        if not include_deleted or label is not None:
            query = query.where(_T.c.deleted_at.is_(None))
        if not include_internal:
            query = query.where(_T.c.internal.is_(False))
        if category:
            query = query.where(or_(shown_category == category, shown_category.startswith(f"{category}/")))
        if tag:
            tagged = select(TAGS.c.template_id).where(TAGS.c.tag == tag)
            query = query.where(_T.c.id.in_(tagged))
        if cursor:
            query = query.where(_T.c.name > decode_cursor(cursor))
        async with self._read() as connection:
            rows = (await connection.execute(query, None if label is None else {"label": label})).mappings().all()
        older = {r["name"] for r in rows[:limit] if r["shown_version"] != r["current_version"]}
        items = [
            TemplateSummary(
                **{**summary_fields(r), **({"tags": []} if r["name"] in older else {})}, version=r["shown_version"]
            )
            for r in rows[:limit]
        ]
        next_cursor = encode_cursor(items[-1].name) if len(rows) > limit else None
        return Page[TemplateSummary](items=items, next_cursor=next_cursor), older

    async def prompt_rows(self, *, cursor: str | None, limit: int) -> tuple[list[PromptRow], str | None]:
        """One page of live, listed prompts as bare rows (no validation): the listing clients call most."""
        async with self._read_statement() as connection:
            return await prompt_row_page(connection, _PROMPT_PAGES, cursor, limit)

    async def count(self, *, include_deleted: bool = False, kind: Kind | None = "prompt") -> int:
        """How many templates the store holds."""
        query = select(func.count()).select_from(_T)
        if kind is not None:
            query = query.where(_T.c.kind == kind)
        if not include_deleted:
            query = query.where(_T.c.deleted_at.is_(None))
        async with self._read() as connection:
            return int((await connection.execute(query)).scalar_one())

    async def history(self, name: str) -> list[VersionInfo]:
        """Every version of ``name``, oldest first."""
        async with self._read() as connection:
            template = (
                await connection.execute(select(_T.c.id, _T.c.current_version).where(_T.c.name == name))
            ).first()
            if template is None:
                raise NotFoundError(f"no template named '{name}'", name=name)
            rows = (
                (await connection.execute(select(_V).where(_V.c.template_id == template.id).order_by(_V.c.version)))
                .mappings()
                .all()
            )
            labels = await labels_of(connection, template.id)
        return [
            VersionInfo(
                version=r["version"],
                content_hash=r["content_hash"],
                message=r["message"],
                origin=r["origin"],
                author=r["author"],
                created_at=r["created_at"],
                current=r["version"] == template.current_version,
                labels=sorted(label for label, version in labels.items() if version == r["version"]),
            )
            for r in rows
        ]

    async def sources(self, kind: Kind) -> dict[str, str]:
        """Current source of every live template of one kind (used for the few partials)."""
        query = (
            select(_T.c.name, _V.c.source)
            .join(_V, and_(_V.c.template_id == _T.c.id, _V.c.version == _T.c.current_version))
            .where(_T.c.kind == kind, _T.c.deleted_at.is_(None))
        )
        async with self._read() as connection:
            return {row.name: row.source for row in await connection.execute(query)}
