"""Writing many templates in one transaction: the path of imports (files, prompts.chat) and of copying a store.

``write_batch`` keeps every rule of ``write`` (a new version only for changed content, one version per changed
template, the kind of a name never changes, deleted ones restored only when asked) but reads the current rows,
inserts the versions, updates the rows and tags and (re)indexes with a few statements per batch instead of
several per template. A template the rules refuse is reported in its place and left out; the others are
written. A batch the database refuses as a whole (another writer took a name meanwhile) is written one
template at a time, so each failure is reported on its own and nothing is half written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ..errors import ConflictError, NotFoundError, PbaError
from .connections import bump_generation
from .models import TAGS, utcnow
from .records import TemplateWrite, WriteResult
from .tables import TEMPLATES as _T
from .tables import VERSIONS as _V
from .tables import denormalized
from .writes import TemplateWrites, record_change

_CHUNK = 500  # names per IN (…) lookup: well under every database's bound-parameter limit


@dataclass(frozen=True)
class BatchItem:
    """One template of a batch, the message its new version gets, and whether it may replace one stored."""

    write: TemplateWrite
    message: str | None = None
    allow_update: bool = True


@dataclass
class _Current:
    id: int
    kind: str
    version: int
    deleted: bool
    content_hash: str


class BulkWrites(TemplateWrites):
    """Many versioned writes in one transaction."""

    async def write_batch(
        self, items: Sequence[BatchItem], *, origin: str, author: str, restore_deleted: bool = False
    ) -> list[WriteResult | PbaError]:
        """Store each item as ``write`` would (created or updated as needed), in one transaction.

        Returns, for each item in order, its result or the ``PbaError`` that refused it (it was not written).
        """
        if not items:
            return []
        try:
            async with self._write() as connection:
                return await self._batch_in(connection, items, (origin, author), restore_deleted)
        except (IntegrityError, ConflictError):
            return [await self._write_alone(item, (origin, author), restore_deleted) for item in items]

    async def _write_alone(
        self, item: BatchItem, why: tuple[str, str], restore_deleted: bool
    ) -> WriteResult | PbaError:
        try:
            return await self.write(
                item.write,
                origin=why[0],
                author=why[1],
                message=item.message,
                allow_update=item.allow_update,
                restore_deleted=restore_deleted,
            )
        except PbaError as exc:
            return exc

    async def _batch_in(
        self, connection: AsyncConnection, items: Sequence[BatchItem], why: tuple[str, str], restore_deleted: bool
    ) -> list[WriteResult | PbaError]:
        now = utcnow()
        current = await self._current_rows(connection, [i.write.name for i in items])
        results: list[WriteResult | PbaError] = []
        created: list[BatchItem] = []
        changed: list[tuple[BatchItem, _Current]] = []
        restored: list[int] = []
        seen: set[str] = set()
        for entry in items:
            item = entry.write
            row = current.get(item.name)
            if item.name in seen:  # a second write of a name would need the first one's version
                results.append(ConflictError(f"'{item.name}' appears twice in one batch"))
                continue
            if row is None:
                created.append(entry)
                results.append(WriteResult(name=item.name, version=1, created=True))
            elif row.kind != item.kind:
                results.append(ConflictError(f"'{item.name}' is already used by a {row.kind}; pick another name"))
            elif not entry.allow_update:
                results.append(ConflictError(f"a template named '{item.name}' already exists: pick another name"))
            elif row.deleted and not restore_deleted:
                results.append(NotFoundError(f"template '{item.name}' is deleted", name=item.name, deleted=True))
            elif row.content_hash == item.content_hash:
                if row.deleted:
                    restored.append(row.id)
                results.append(WriteResult(name=item.name, version=row.version, changed=False, restored=row.deleted))
            else:
                changed.append((entry, row))
                results.append(WriteResult(name=item.name, version=row.version + 1, restored=row.deleted))
            if isinstance(results[-1], WriteResult):
                seen.add(item.name)
        if not (created or changed or restored):
            return results

        fulltext = self.dialect.fulltext
        if fulltext is not None:  # while the index can still read what it holds
            await fulltext.remove_many(connection, [row.id for _, row in changed])
        ids = await self._insert_templates(connection, [e.write for e in created], now)
        versions = [(ids[e.write.name], 1, e) for e in created] + [(row.id, row.version + 1, e) for e, row in changed]
        if versions:
            await connection.execute(insert(_V), [_version_values(t, v, e, why, now) for t, v, e in versions])
        if changed:
            await connection.execute(_UPDATE_CURRENT, [_current_values(row, e.write, now) for e, row in changed])
        if restored:
            await connection.execute(
                update(_T).where(_T.c.id == bindparam("b_id")).values(deleted_at=None, updated_at=now),
                [{"b_id": template_id} for template_id in restored],
            )
        for template_id in restored + [row.id for _, row in changed if row.deleted]:
            await record_change(connection, template_id, "restore", why[1], now=now)
        await self._replace_tags(connection, [(ids[e.write.name], e.write) for e in created])
        await self._replace_tags(connection, [(row.id, e.write) for e, row in changed], existing=True)
        if fulltext is not None:
            await fulltext.index_many(connection, [t for t, _, _ in versions] + restored)
        await bump_generation(connection)
        return results

    async def _current_rows(self, connection: AsyncConnection, names: list[str]) -> dict[str, _Current]:
        found: dict[str, _Current] = {}
        for start in range(0, len(names), _CHUNK):
            query = (
                select(_T.c.id, _T.c.name, _T.c.kind, _T.c.current_version, _T.c.deleted_at, _V.c.content_hash)
                .join(_V, and_(_V.c.template_id == _T.c.id, _V.c.version == _T.c.current_version))
                .where(_T.c.name.in_(names[start : start + _CHUNK]))
            )
            for row in await connection.execute(self.dialect.lock_for_write(query)):
                found[row.name] = _Current(
                    row.id, row.kind, row.current_version, row.deleted_at is not None, row.content_hash
                )
        return found

    async def _insert_templates(
        self, connection: AsyncConnection, items: list[TemplateWrite], now: datetime
    ) -> dict[str, int]:
        if not items:
            return {}
        rows = [
            {"name": i.name, "current_version": 1, "created_at": now, "updated_at": now, **denormalized(i)}
            for i in items
        ]
        await connection.execute(insert(_T), rows)
        names = [i.name for i in items]
        ids: dict[str, int] = {}
        for start in range(0, len(names), _CHUNK):
            query = select(_T.c.name, _T.c.id).where(_T.c.name.in_(names[start : start + _CHUNK]))
            ids.update({row.name: row.id for row in await connection.execute(query)})
        return ids

    async def _replace_tags(
        self, connection: AsyncConnection, items: list[tuple[int, TemplateWrite]], *, existing: bool = False
    ) -> None:
        if existing and items:
            await connection.execute(
                delete(TAGS).where(TAGS.c.template_id == bindparam("b_id")), [{"b_id": t} for t, _ in items]
            )
        tags = [{"template_id": t, "tag": tag} for t, item in items for tag in sorted(set(item.tags))]
        if tags:
            await connection.execute(insert(TAGS), tags)


_UPDATE_CURRENT = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"))
    .values(
        current_version=bindparam("b_version"),
        updated_at=bindparam("b_now"),
        deleted_at=None,
        **{key: bindparam(f"b_{key}") for key in denormalized(TemplateWrite(name="x", source="", content_hash=""))},
    )
)


def _current_values(row: _Current, item: TemplateWrite, now: datetime) -> dict[str, Any]:
    values = {f"b_{key}": value for key, value in denormalized(item).items()}
    return {"b_id": row.id, "b_version": row.version + 1, "b_now": now, **values}


def _version_values(
    template_id: int, version: int, entry: BatchItem, why: tuple[str, str], now: datetime
) -> dict[str, Any]:
    item, (origin, author) = entry.write, why
    return {
        "template_id": template_id,
        "version": version,
        "source": item.source,
        "category": item.category,
        "content_hash": item.content_hash,
        "facts_json": item.facts_json,
        "message": entry.message,
        "origin": origin,
        "author": author,
        "created_at": now,
    }
