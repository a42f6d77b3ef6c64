"""Writing templates: every change a new immutable version, tags and index kept in step, soft delete."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ..errors import ConflictError, NotFoundError
from .connections import StoreBase, bump_generation, put_meta
from .models import CHANGES, TAGS, utcnow
from .records import ChangeAction, TemplateWrite, WriteResult
from .tables import TEMPLATES as _T
from .tables import VERSIONS as _V
from .tables import denormalized, update_row


async def record_change(
    connection: AsyncConnection,
    template_id: int,
    action: ChangeAction,
    author: str,
    *,
    now: datetime,
    label: str | None = None,
    from_version: int | None = None,
    to_version: int | None = None,
) -> None:
    """Note a change that makes no version (a label move, a delete, a restore) in the writer's transaction."""
    await connection.execute(
        insert(CHANGES).values(
            template_id=template_id,
            action=action,
            label=label,
            from_version=from_version,
            to_version=to_version,
            author=author,
            created_at=now,
        )
    )


class TemplateWrites(StoreBase):
    """Versioned writes, one transaction each."""

    async def write(
        self,
        item: TemplateWrite,
        *,
        origin: str,
        author: str,
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
                author=author,
                message=message,
                expected_version=expected_version,
                allow_create=allow_create,
                allow_update=allow_update,
                restore_deleted=restore_deleted,
            )

    async def write_many(
        self,
        items: Sequence[TemplateWrite],
        *,
        origin: str,
        author: str,
        message: str | None = None,
        facts: Mapping[str, str] | None = None,
    ) -> list[WriteResult]:
        """Write several templates and store-wide facts in one transaction (all or nothing)."""
        async with self._write() as connection:
            results = [
                await self._write_in(
                    connection,
                    item,
                    origin=origin,
                    author=author,
                    message=message,
                    expected_version=None,
                    allow_create=True,
                    allow_update=True,
                    restore_deleted=False,
                )
                for item in items
            ]
            for key, value in (facts or {}).items():
                await put_meta(connection, key, value)
            return results

    async def _write_in(
        self,
        connection: AsyncConnection,
        item: TemplateWrite,
        *,
        origin: str,
        author: str,
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
                raise NotFoundError(f"no template named '{item.name}'", name=item.name)
            if expected_version not in (None, 0):
                raise ConflictError(
                    f"template '{item.name}' does not exist, so it is not at version {expected_version}"
                )
            inserted = await connection.execute(
                insert(_T).values(
                    name=item.name, current_version=1, created_at=now, updated_at=now, **denormalized(item)
                )
            )
            template_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]
            await self._insert_version(connection, template_id, 1, item, (origin, author, message), now)
            await self._set_tags(connection, template_id, item.tags)
            await self._index(connection, template_id)
            await bump_generation(connection)
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
            raise NotFoundError(f"template '{item.name}' is deleted", name=item.name, deleted=True)
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
                await connection.execute(update_row(_T, row["id"], deleted_at=None, updated_at=now))
                await record_change(connection, row["id"], "restore", author, now=now)
                await self._index(connection, row["id"])
                await bump_generation(connection)
            return WriteResult(name=item.name, version=current, changed=False, restored=deleted)

        new_version = current + 1
        await self._unindex(connection, row["id"])  # while the index can still read what it holds
        await self._insert_version(connection, row["id"], new_version, item, (origin, author, message), now)
        changed = await connection.execute(
            update(_T)
            .where(_T.c.id == row["id"], _T.c.current_version == current)
            .values(current_version=new_version, updated_at=now, deleted_at=None, **denormalized(item))
        )
        if changed.rowcount != 1:  # only reachable without row locks; the unique version constraint backs it up
            raise ConflictError(f"template '{item.name}' changed during the write; try again")
        if deleted:
            await record_change(connection, row["id"], "restore", author, now=now)
        await self._set_tags(connection, row["id"], item.tags)
        await self._index(connection, row["id"])
        await bump_generation(connection)
        return WriteResult(name=item.name, version=new_version, restored=deleted)

    async def _insert_version(
        self,
        connection: AsyncConnection,
        template_id: int,
        version: int,
        item: TemplateWrite,
        why: tuple[str, str, str | None],  # origin, author, message
        now: datetime,
    ) -> None:
        origin, author, message = why
        try:
            await connection.execute(
                insert(_V).values(
                    template_id=template_id,
                    version=version,
                    source=item.source,
                    category=item.category,
                    content_hash=item.content_hash,
                    facts_json=item.facts_json,
                    message=message,
                    origin=origin,
                    author=author,
                    created_at=now,
                )
            )
        except IntegrityError:
            raise ConflictError(f"version {version} of '{item.name}' was written by someone else; try again") from None

    async def _index(self, connection: AsyncConnection, template_id: int) -> None:
        if self.dialect.fulltext is not None:
            await self.dialect.fulltext.index(connection, template_id)

    async def _unindex(self, connection: AsyncConnection, template_id: int) -> None:
        if self.dialect.fulltext is not None:
            await self.dialect.fulltext.remove(connection, template_id)

    async def _set_tags(self, connection: AsyncConnection, template_id: int, tags: list[str]) -> None:
        await connection.execute(delete(TAGS).where(TAGS.c.template_id == template_id))
        unique = sorted(set(tags))
        if unique:
            await connection.execute(insert(TAGS), [{"template_id": template_id, "tag": t} for t in unique])

    async def fill_facts(self, facts: Sequence[tuple[str, int, str]]) -> None:
        """Keep what parsing found for versions stored without it: (name, version, facts JSON), one transaction."""
        ids = select(_T.c.id).where(_T.c.name == bindparam("f_name")).scalar_subquery()
        statement = (
            update(_V)
            .where(_V.c.template_id == ids, _V.c.version == bindparam("f_version"), _V.c.facts_json.is_(None))
            .values(facts_json=bindparam("f_facts"))
        )
        async with self._write() as connection:
            await connection.execute(statement, [{"f_name": n, "f_version": v, "f_facts": f} for n, v, f in facts])

    async def set_deleted(self, name: str, deleted: bool, *, author: str) -> bool:
        """Soft-delete or restore ``name`` (recorded with its author); False when it already was in that state."""
        async with self._write() as connection:
            row = (
                await connection.execute(
                    self.dialect.lock_for_write(select(_T.c.id, _T.c.deleted_at).where(_T.c.name == name))
                )
            ).first()
            if row is None:
                raise NotFoundError(f"no template named '{name}'", name=name)
            if (row.deleted_at is not None) == deleted:
                return False
            if deleted:
                await self._unindex(connection, row.id)
            now = utcnow()
            await connection.execute(update_row(_T, row.id, deleted_at=now if deleted else None, updated_at=now))
            await record_change(connection, row.id, "delete" if deleted else "restore", author, now=now)
            if not deleted:
                await self._index(connection, row.id)
            await bump_generation(connection)
            return True
