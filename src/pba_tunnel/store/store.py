"""The template store: versioned writes, reads, listing, history, soft delete and render events."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import anyio
from sqlalchemy import Integer, Text, and_, cast, delete, func, insert, or_, select, update
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlmodel import col

from ..errors import ConflictError, NotFoundError, StoreError
from ..templates.spec import ArgumentSpec
from . import migrate
from .dialects import Dialect, dialect_for
from .models import EnhancementEventRow, MetaRow, RenderEventRow, TagRow, TemplateRow, VersionRow, utcnow
from .records import (
    EnhancementEvent,
    Kind,
    Page,
    RenderEvent,
    StoredTemplate,
    TemplateSummary,
    TemplateWrite,
    VersionInfo,
    WriteResult,
)


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


MAX_PAGE = 1000
GENERATION_KEY = "generation"
_T = TemplateRow.__table__  # type: ignore[attr-defined]
_V = VersionRow.__table__  # type: ignore[attr-defined]


def _describe_database_error(url: str, exc: BaseException) -> str:
    detail = str(getattr(exc, "orig", exc)).strip() or type(exc).__name__
    where = url.split("///", 1)[-1] if url.startswith("sqlite") else url.split("@")[-1]
    if "file is not a database" in detail or "malformed" in detail:
        return (
            f"the store {where} is not a valid SQLite database ({detail}); move the file away or point "
            "PBA_TUNNEL_DATABASE_URL / --database-url at another store"
        )
    return f"the store {where} cannot be used: {detail}"


SQLITE_HEADER = b"SQLite format 3\x00"


def _check_sqlite_file(path: Path) -> None:
    """Refuse, before connecting, a path that holds something other than an SQLite database."""
    fix = "move the file away or point PBA_TUNNEL_DATABASE_URL / --database-url at another store"
    if path.is_dir():
        raise StoreError(f"the store {path} is a folder, not a database file; {fix.replace('file', 'folder', 1)}")
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return  # a new store
    except OSError as exc:
        raise StoreError(f"the store {path} cannot be read: {exc.strerror}; {fix}") from None
    if header and header != SQLITE_HEADER:
        raise StoreError(f"the store {path} is not a valid SQLite database (file is not a database); {fix}")


def encode_cursor(name: str) -> str:
    """Cursors are opaque to callers: the last name of a page, base64-encoded."""
    return base64.urlsafe_b64encode(name.encode()).decode()


def decode_cursor(cursor: str) -> str:
    """The name a cursor stands for; a malformed cursor is a ConflictError-free user error."""
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise NotFoundError(f"invalid cursor {cursor!r}: pass the next_cursor of a previous page") from None


class Store:
    """Async access to the templates of one database."""

    def __init__(self, engine: AsyncEngine, dialect: Dialect, url: str) -> None:
        self.engine = engine
        self.dialect = dialect
        self.url = url

    @classmethod
    async def open(cls, url: str, *, migrate_schema: bool = True) -> Store:
        """Connect, and create or migrate the schema when needed."""
        sqlite_file = url.split("///", 1)[1].split("?", 1)[0] if url.startswith("sqlite") and "///" in url else None
        if sqlite_file and sqlite_file != ":memory:":
            Path(sqlite_file).parent.mkdir(parents=True, exist_ok=True)
        if sqlite_file and sqlite_file != ":memory:":
            _check_sqlite_file(Path(sqlite_file))
        dialect = dialect_for(url, sqlite_file if sqlite_file != ":memory:" else None)
        try:
            engine = create_async_engine(url)
        except (ImportError, ValueError, ArgumentError) as exc:
            raise StoreError(f"cannot use database URL {url!r}: {exc}") from None
        dialect.prepare(engine)
        store = cls(engine, dialect, url)
        if migrate_schema:
            try:
                if await store.upgrade():
                    await store.reindex()  # a new schema may index differently; rebuilding is cheap
            except BaseException:
                await store.close()  # a broken store must not leave its connection (and thread) behind
                raise
        return store

    async def close(self) -> None:
        """Release every connection."""
        self.dialect.close()
        await self.engine.dispose()

    async def upgrade(self) -> bool:
        """Apply pending migrations; True when one ran."""
        async with self._errors():
            return await migrate.upgrade(self.engine, self.dialect.write_options())

    # -- connections -------------------------------------------------------------------------------

    @asynccontextmanager
    async def _errors(self) -> AsyncIterator[None]:
        try:
            yield
        except (DBAPIError, OSError) as exc:
            if isinstance(exc, IntegrityError):
                raise
            raise StoreError(_describe_database_error(self.url, exc)) from None

    # Database work is shielded from cancellation: cancelling an aiosqlite call mid-query leaves its
    # connection unable to close (engine disposal hangs), and a write is better finished than torn.
    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        with anyio.CancelScope(shield=True):
            async with self._errors(), self.engine.connect() as connection:
                yield connection

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        with anyio.CancelScope(shield=True):
            async with self._write_unshielded() as connection:
                yield connection

    @asynccontextmanager
    async def _write_unshielded(self) -> AsyncIterator[AsyncConnection]:
        async with self._errors(), self.engine.connect() as connection:
            await connection.execution_options(**self.dialect.write_options())
            async with connection.begin():
                yield connection

    # -- reads -------------------------------------------------------------------------------------

    async def get(self, name: str, version: int | None = None, *, include_deleted: bool = False) -> StoredTemplate:
        """The current version of ``name`` (or ``version``); NotFoundError names what is missing."""
        query = (
            select(
                _T,
                _V.c.version.label("v_version"),
                _V.c.source,
                _V.c.content_hash,
                _V.c.message,
                _V.c.origin,
                _V.c.created_at.label("v_created_at"),
                _V.c.category.label("v_category"),
            )
            .join(_V, _V.c.template_id == _T.c.id)
            .where(_T.c.name == name)
            .where(_V.c.version == (version if version is not None else _T.c.current_version))
        )
        async with self._read() as connection:
            row = (await connection.execute(query)).mappings().first()
            if row is None:
                await self._raise_missing(connection, name, version)
        assert row is not None
        if row["deleted_at"] is not None and not include_deleted:
            raise NotFoundError(f"template '{name}' is deleted: `pba-tunnel restore {name}` brings it back")
        return _stored(row, row["v_version"])

    async def _raise_missing(self, connection: AsyncConnection, name: str, version: int | None) -> None:
        current = (await connection.execute(select(_T.c.current_version).where(_T.c.name == name))).first()
        if current is None:
            raise NotFoundError(f"no template named '{name}': `pba-tunnel list` shows the names")
        raise NotFoundError(f"template '{name}' has no version {version}; its versions are 1..{current[0]}")

    async def list_templates(
        self,
        *,
        category: str | None = None,
        tag: str | None = None,
        cursor: str | None = None,
        limit: int = 100,
        include_deleted: bool = False,
        kind: Kind | None = "prompt",
    ) -> Page[TemplateSummary]:
        """One page of templates ordered by name."""
        limit = max(1, min(limit, MAX_PAGE))
        query = select(_T).order_by(_T.c.name).limit(limit + 1)
        if kind is not None:
            query = query.where(_T.c.kind == kind)
        if not include_deleted:
            query = query.where(_T.c.deleted_at.is_(None))
        if category:
            query = query.where(or_(_T.c.category == category, _T.c.category.startswith(f"{category}/")))
        if tag:
            tagged = select(col(TagRow.template_id)).where(col(TagRow.tag) == tag)
            query = query.where(_T.c.id.in_(tagged))
        if cursor:
            query = query.where(_T.c.name > decode_cursor(cursor))
        async with self._read() as connection:
            rows = (await connection.execute(query)).mappings().all()
        items = [TemplateSummary(**_summary_fields(r), version=r["current_version"]) for r in rows[:limit]]
        next_cursor = encode_cursor(items[-1].name) if len(rows) > limit else None
        return Page[TemplateSummary](items=items, next_cursor=next_cursor)

    async def search_candidates(
        self, terms: Sequence[str], *, category: str | None, tags: Sequence[str], limit: int
    ) -> list[StoredTemplate]:
        """Live templates whose name, title, description, tags, category or body contain every term."""
        fields = (_T.c.name, _T.c.title, _T.c.description, _T.c.tags_json, _T.c.category, _V.c.source)
        query = (
            select(_T, _V.c.source, _V.c.content_hash, _V.c.message, _V.c.origin, _V.c.created_at.label("v_created_at"))
            .join(_V, and_(_V.c.template_id == _T.c.id, _V.c.version == _T.c.current_version))
            .where(_T.c.kind == "prompt", _T.c.deleted_at.is_(None))
            .order_by(_T.c.name)
            .limit(limit)
        )
        for term in terms:
            pattern = "%" + re.sub(r"[%_\\\\]", "", term) + "%"  # user text cannot inject LIKE wildcards
            query = query.where(or_(*(func.lower(f).like(pattern) for f in fields)))
        if category:
            query = query.where(or_(_T.c.category == category, _T.c.category.startswith(f"{category}/")))
        for tag in tags:
            query = query.where(_T.c.id.in_(select(col(TagRow.template_id)).where(col(TagRow.tag) == tag)))
        async with self._read() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [_stored(r, r["current_version"]) for r in rows]

    async def prompt_rows(self, *, cursor: str | None, limit: int) -> tuple[list[PromptRow], str | None]:
        """One page of live prompts as bare rows (no validation): the listing clients call most."""
        query = (
            select(_T.c.name, _T.c.title, _T.c.description, _T.c.arguments_json)
            .where(_T.c.kind == "prompt", _T.c.deleted_at.is_(None))
            .order_by(_T.c.name)
            .limit(limit + 1)
        )
        if cursor:
            query = query.where(_T.c.name > decode_cursor(cursor))
        async with self._read() as connection:
            rows = [PromptRow(*row) for row in await connection.execute(query)]
        next_cursor = encode_cursor(rows[limit - 1].name) if len(rows) > limit else None
        return rows[:limit], next_cursor

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
                raise NotFoundError(f"no template named '{name}': `pba-tunnel list` shows the names")
            rows = (
                (await connection.execute(select(_V).where(_V.c.template_id == template.id).order_by(_V.c.version)))
                .mappings()
                .all()
            )
        return [
            VersionInfo(
                version=r["version"],
                content_hash=r["content_hash"],
                message=r["message"],
                origin=r["origin"],
                created_at=r["created_at"],
                current=r["version"] == template.current_version,
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

    # -- writes ------------------------------------------------------------------------------------

    async def write(
        self,
        item: TemplateWrite,
        *,
        origin: str,
        message: str | None = None,
        expected_version: int | None = None,
        allow_create: bool = True,
        allow_update: bool = True,
        restore_deleted: bool = False,
    ) -> WriteResult:
        """Store ``item`` as a new version when its content differs from the current one.

        ``allow_create``/``allow_update`` say whether a new name / an existing name is acceptable; ``expected_version``
        refuses a write based on a stale version with ConflictError.
        """
        async with self._write() as connection:
            return await self._write_in(
                connection,
                item,
                origin=origin,
                message=message,
                expected_version=expected_version,
                allow_create=allow_create,
                allow_update=allow_update,
                restore_deleted=restore_deleted,
            )

    async def write_many(self, items: Sequence[TemplateWrite], *, origin: str) -> list[WriteResult]:
        """Write several templates in one transaction (all or nothing)."""
        async with self._write() as connection:
            return [
                await self._write_in(
                    connection,
                    item,
                    origin=origin,
                    message=None,
                    expected_version=None,
                    allow_create=True,
                    allow_update=True,
                    restore_deleted=False,
                )
                for item in items
            ]

    async def _write_in(
        self,
        connection: AsyncConnection,
        item: TemplateWrite,
        *,
        origin: str,
        message: str | None,
        expected_version: int | None,
        allow_create: bool,
        allow_update: bool,
        restore_deleted: bool,
    ) -> WriteResult:
        now = utcnow()
        locked = self.dialect.lock_for_write(select(_T).where(_T.c.name == item.name))
        row = (await connection.execute(locked)).mappings().first()
        if row is None:
            if not allow_create:
                raise NotFoundError(f"no template named '{item.name}': create it first")
            if expected_version not in (None, 0):
                raise ConflictError(
                    f"template '{item.name}' does not exist, so it is not at version {expected_version}"
                )
            inserted = await connection.execute(
                insert(_T).values(
                    name=item.name, current_version=1, created_at=now, updated_at=now, **_denormalized(item)
                )
            )
            template_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]
            await self._insert_version(connection, template_id, 1, item, origin, message, now)
            await self._set_tags(connection, template_id, item.tags)
            await self._index(connection, template_id)
            await self._bump_generation(connection)
            return WriteResult(name=item.name, version=1, created=True)

        current = int(row["current_version"])
        deleted = row["deleted_at"] is not None
        if row["kind"] != item.kind:
            raise ConflictError(f"'{item.name}' is already used by a {row['kind']}; pick another name")
        if not allow_update:
            hint = "restore it or pick another name" if deleted else "update it instead, or pick another name"
            raise ConflictError(
                f"a template named '{item.name}' already exists{' (deleted)' if deleted else ''}: {hint}"
            )
        if deleted and not restore_deleted:
            raise NotFoundError(f"template '{item.name}' is deleted: `pba-tunnel restore {item.name}` brings it back")
        if expected_version is not None and expected_version != current:
            raise ConflictError(
                f"template '{item.name}' is at version {current}, not {expected_version}: "
                "someone changed it meanwhile; get the current version and apply your change again"
            )
        current_hash = (
            await connection.execute(
                select(_V.c.content_hash).where(_V.c.template_id == row["id"], _V.c.version == current)
            )
        ).scalar_one()
        if current_hash == item.content_hash:
            if deleted:
                await connection.execute(update_(_T, row["id"], deleted_at=None, updated_at=now))
                await self._index(connection, row["id"])
                await self._bump_generation(connection)
            return WriteResult(name=item.name, version=current, changed=False, restored=deleted)

        new_version = current + 1
        await self._insert_version(connection, row["id"], new_version, item, origin, message, now)
        changed = await connection.execute(
            update(_T)
            .where(_T.c.id == row["id"], _T.c.current_version == current)
            .values(current_version=new_version, updated_at=now, deleted_at=None, **_denormalized(item))
        )
        if changed.rowcount != 1:  # only reachable without row locks; the unique version constraint backs it up
            raise ConflictError(f"template '{item.name}' changed during the write; try again")
        await self._set_tags(connection, row["id"], item.tags)
        await self._index(connection, row["id"])
        await self._bump_generation(connection)
        return WriteResult(name=item.name, version=new_version, restored=deleted)

    async def insert_new(self, items: Sequence[TemplateWrite], *, origin: str, message: str | None = None) -> int:
        """Bulk-insert templates whose names are all new, in one transaction (large imports, benchmarks).

        ConflictError when any name exists already; use :meth:`write` for updates.
        """
        if not items:
            return 0
        now = utcnow()
        names = [item.name for item in items]
        async with self._write() as connection:
            taken = (await connection.execute(select(_T.c.name).where(_T.c.name.in_(names[:1000])))).first()
            if taken is not None or len(set(names)) != len(names):
                raise ConflictError("bulk insert needs new, unique names; import existing templates one by one")
            try:
                await connection.execute(
                    insert(_T),
                    [
                        {"name": i.name, "current_version": 1, "created_at": now, "updated_at": now, **_denormalized(i)}
                        for i in items
                    ],
                )
            except IntegrityError:
                raise ConflictError("bulk insert needs new names: some already exist") from None
            ids: dict[str, int] = {}
            for start in range(0, len(names), 900):  # stay under SQLite's bound-parameter limit
                chunk = names[start : start + 900]
                found = await connection.execute(select(_T.c.name, _T.c.id).where(_T.c.name.in_(chunk)))
                ids.update({row.name: row.id for row in found})
            await connection.execute(
                insert(_V),
                [
                    {
                        "template_id": ids[i.name],
                        "version": 1,
                        "source": i.source,
                        "category": i.category,
                        "content_hash": i.content_hash,
                        "message": message,
                        "origin": origin,
                        "created_at": now,
                    }
                    for i in items
                ],
            )
            tags = [{"template_id": ids[i.name], "tag": t} for i in items for t in sorted(set(i.tags))]
            if tags:
                await connection.execute(insert(TagRow), tags)
            if self.dialect.fulltext is not None:
                await self.dialect.fulltext.index_from(connection, min(ids.values()))
            await self._bump_generation(connection)
        return len(items)

    async def _insert_version(
        self,
        connection: AsyncConnection,
        template_id: int,
        version: int,
        item: TemplateWrite,
        origin: str,
        message: str | None,
        now: datetime,
    ) -> None:
        try:
            await connection.execute(
                insert(_V).values(
                    template_id=template_id,
                    version=version,
                    source=item.source,
                    category=item.category,
                    content_hash=item.content_hash,
                    message=message,
                    origin=origin,
                    created_at=now,
                )
            )
        except IntegrityError:
            raise ConflictError(f"version {version} of '{item.name}' was written by someone else; try again") from None

    async def _index(self, connection: AsyncConnection, template_id: int) -> None:
        if self.dialect.fulltext is not None:
            await self.dialect.fulltext.index(connection, template_id)

    async def reindex(self) -> int:
        """Rebuild the full-text index from the current version of every live prompt (one bulk rebuild)."""
        if self.dialect.fulltext is None:
            return 0
        async with self._write() as connection:
            return await self.dialect.fulltext.rebuild(connection)

    async def full_text(
        self, match: str, *, categories: Sequence[str], tags: Sequence[str], limit: int
    ) -> list[FullTextHit]:
        """Live prompts matching an FTS5 expression, best first, with matched fields and a snippet."""
        fulltext = self.dialect.fulltext
        if fulltext is None:
            raise StoreError("full-text search is not available on this database")
        async with self._read() as connection:
            try:
                ranked = await fulltext.ranked(connection, match, categories=categories, tags=tags, limit=limit)
            except DBAPIError as exc:
                if "fts5" in str(exc.orig).lower():
                    from ..search.query import QueryError

                    raise QueryError(f"the search query could not be run: {exc.orig}") from None
                raise
            ids = [r.template_id for r in ranked]
            rows = {r["id"]: r for r in (await connection.execute(select(_T).where(_T.c.id.in_(ids)))).mappings()}
        hits = []
        for entry in ranked:
            row = rows.get(entry.template_id)
            if row is None:
                continue
            hits.append(
                FullTextHit(
                    summary=TemplateSummary(**_summary_fields(row), version=row["current_version"]),
                    score=-entry.rank,
                    matched=entry.matched,
                    snippet=entry.snippet,
                )
            )
        return hits

    async def _bump_generation(self, connection: AsyncConnection) -> None:
        # Every change to what templates exist or say bumps this counter, in the same transaction, so any
        # process can tell "templates changed" from "only render events were written".
        bumped = await connection.execute(
            update(MetaRow)
            .where(col(MetaRow.key) == GENERATION_KEY)
            .values(value=cast(cast(col(MetaRow.value), Integer) + 1, Text))
        )
        if bumped.rowcount == 0:
            await connection.execute(insert(MetaRow).values(key=GENERATION_KEY, value="1"))

    async def generation(self) -> int:
        """The template generation: it changes with every template write by any process."""
        value = await self.get_meta(GENERATION_KEY)
        return int(value) if value is not None else 0

    def data_version(self) -> int | None:
        """A number that moves when another connection commits, read without a query; None: ask generation()."""
        return self.dialect.data_version()

    async def _set_tags(self, connection: AsyncConnection, template_id: int, tags: list[str]) -> None:
        await connection.execute(delete(TagRow).where(col(TagRow.template_id) == template_id))
        unique = sorted(set(tags))
        if unique:
            await connection.execute(insert(TagRow), [{"template_id": template_id, "tag": t} for t in unique])

    async def set_deleted(self, name: str, deleted: bool) -> bool:
        """Soft-delete or restore ``name``; False when it already was in that state."""
        async with self._write() as connection:
            row = (
                await connection.execute(
                    self.dialect.lock_for_write(select(_T.c.id, _T.c.deleted_at).where(_T.c.name == name))
                )
            ).first()
            if row is None:
                raise NotFoundError(f"no template named '{name}': `pba-tunnel list --deleted` shows deleted ones")
            if (row.deleted_at is not None) == deleted:
                return False
            await connection.execute(update_(_T, row.id, deleted_at=utcnow() if deleted else None, updated_at=utcnow()))
            if self.dialect.fulltext is not None:
                if deleted:
                    await self.dialect.fulltext.remove(connection, row.id)
                else:
                    await self._index(connection, row.id)
            await self._bump_generation(connection)
            return True

    async def record_renders(self, events: Sequence[RenderEvent]) -> None:
        """Remember renders for statistics and completion, in one transaction."""
        if not events:
            return
        names = sorted({e.name for e in events})
        async with self._write() as connection:
            found = await connection.execute(select(_T.c.name, _T.c.id).where(_T.c.name.in_(names)))
            ids: dict[str, int] = {row.name: row.id for row in found}
            rows = [
                {
                    "template_id": ids[e.name],
                    "version": e.version,
                    "duration_ms": e.duration_ms,
                    "client": e.client,
                    "arguments_json": json.dumps(e.arguments, default=str) if e.arguments else None,
                    "created_at": e.created_at,
                }
                for e in events
                if e.name in ids
            ]
            if rows:
                await connection.execute(insert(RenderEventRow), rows)

    async def argument_values(self, name: str, argument: str, *, scan: int = 500) -> list[str]:
        """Values given for ``argument`` in the latest renders of ``name``, most recent first, unique."""
        query = (
            select(col(RenderEventRow.arguments_json))
            .join(_T, _T.c.id == col(RenderEventRow.template_id))
            .where(_T.c.name == name, col(RenderEventRow.arguments_json).is_not(None))
            .order_by(col(RenderEventRow.id).desc())
            .limit(scan)
        )
        async with self._read() as connection:
            rows = (await connection.execute(query)).scalars().all()
        values: list[str] = []
        for raw in rows:
            value = json.loads(raw or "{}").get(argument)
            if isinstance(value, str) and value and value not in values:
                values.append(value)
        return values

    async def record_enhancement(self, event: EnhancementEvent) -> None:
        """Remember one enhancement (saved or not) for statistics."""
        values = event.model_dump()
        values["template_name"] = values.pop("name")
        values["created_at"] = event.created_at or utcnow()
        async with self._write() as connection:
            await connection.execute(insert(EnhancementEventRow).values(**values))

    async def enhancement_events(self, name: str | None = None, *, limit: int = 100) -> list[EnhancementEvent]:
        """The latest recorded enhancements (of ``name``, or of every template), newest first."""
        query = select(EnhancementEventRow).order_by(col(EnhancementEventRow.id).desc()).limit(limit)
        if name is not None:
            query = query.where(col(EnhancementEventRow.template_name) == name)
        async with self._read() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [
            EnhancementEvent(
                **{k: v for k, v in row.items() if k not in {"id", "template_name"}}, name=row["template_name"]
            )
            for row in rows
        ]

    async def get_meta(self, key: str) -> str | None:
        """A store-wide fact."""
        async with self._read() as connection:
            return (
                await connection.execute(select(col(MetaRow.value)).where(col(MetaRow.key) == key))
            ).scalar_one_or_none()

    async def set_meta(self, key: str, value: str) -> None:
        """Set a store-wide fact."""
        async with self._write() as connection:
            await connection.execute(delete(MetaRow).where(col(MetaRow.key) == key))
            await connection.execute(insert(MetaRow).values(key=key, value=value))


def update_(table: Any, row_id: int, **values: Any) -> Any:
    """UPDATE one row by id."""
    return update(table).where(table.c.id == row_id).values(**values)


def _denormalized(item: TemplateWrite) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "category": item.category,
        "title": item.title,
        "description": item.description,
        "tags_json": json.dumps(item.tags),
        "arguments_json": json.dumps([a.model_dump(exclude_none=True) for a in item.arguments]),
    }


def _stored(row: Any, version: int) -> StoredTemplate:
    """A template row joined with one of its versions (source, content_hash, message, origin, v_created_at)."""
    return StoredTemplate(
        **_summary_fields(row),
        version=version,
        current_version=row["current_version"],
        source=row["source"],
        content_hash=row["content_hash"],
        message=row["message"],
        origin=row["origin"],
        created_at=row["v_created_at"],
    )


def _summary_fields(row: Any) -> dict[str, Any]:
    return {
        "name": row["name"],
        "kind": row["kind"],
        "title": row["title"],
        "description": row["description"],
        "category": row["category"],
        "tags": json.loads(row["tags_json"]),
        "arguments": [ArgumentSpec.model_validate(a) for a in json.loads(row["arguments_json"])],
        "deleted": row["deleted_at"] is not None,
        "updated_at": row["updated_at"],
    }
