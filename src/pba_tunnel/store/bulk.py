"""A bulk insert of new templates in one transaction, for benchmarks (it is to move under tests/)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from ..errors import ConflictError
from .connections import StoreBase, bump_generation
from .models import TagRow, utcnow
from .records import TemplateWrite
from .tables import TEMPLATES as _T
from .tables import VERSIONS as _V
from .tables import denormalized


class BulkInsert(StoreBase):
    """Many new templates at once."""

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
                        {"name": i.name, "current_version": 1, "created_at": now, "updated_at": now, **denormalized(i)}
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
            await bump_generation(connection)
        return len(items)
