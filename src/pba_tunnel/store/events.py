"""What happened to templates: render events (statistics, completion) and enhancement events."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from .connections import StoreBase
from .models import ENHANCEMENT_EVENTS, RENDER_EVENTS, utcnow
from .records import EnhancementEvent, RenderEvent
from .tables import TEMPLATES as _T
from .usage import daily, prune_daily, record_daily


class EventLog(StoreBase):
    """Render and enhancement events, written in batches and read back newest first."""

    async def record_renders(
        self,
        events: Sequence[RenderEvent],
        *,
        prune_before: datetime | None = None,
        usage: bool = True,
        prune_usage_before: date | None = None,
    ) -> None:
        """Remember renders in one transaction (with ``usage``, also in the daily statistics), dropping there the
        events older than ``prune_before`` and the daily rows older than ``prune_usage_before``."""
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
                if e.name in ids and e.error is None
            ]
            if rows:
                await connection.execute(insert(RENDER_EVENTS), rows)
            if usage:
                await record_daily(connection, daily(events, ids))
            if prune_before is not None:
                await _prune(connection, prune_before)
            if prune_usage_before is not None:
                await prune_daily(connection, prune_usage_before)

    async def prune_render_events(self, before: datetime) -> int:
        """Forget render events older than ``before``; how many were dropped."""
        async with self._write() as connection:
            return await _prune(connection, before)

    async def argument_values(
        self, name: str, argument: str, *, client: str | None = None, every_client: bool = False, scan: int = 500
    ) -> list[str]:
        """Distinct values of ``argument`` in the latest renders of ``name`` by ``client`` (or by anyone)."""
        query = (
            select(RENDER_EVENTS.c.arguments_json)
            .join(_T, _T.c.id == RENDER_EVENTS.c.template_id)
            .where(_T.c.name == name, RENDER_EVENTS.c.arguments_json.is_not(None))
            .order_by(RENDER_EVENTS.c.id.desc())
            .limit(scan)
        )
        if not every_client:
            query = query.where(RENDER_EVENTS.c.client.is_not_distinct_from(client))
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
            await connection.execute(insert(ENHANCEMENT_EVENTS).values(**values))

    async def enhancement_events(self, name: str | None = None, *, limit: int = 100) -> list[EnhancementEvent]:
        """The latest recorded enhancements (of ``name``, or of every template), newest first."""
        query = select(ENHANCEMENT_EVENTS).order_by(ENHANCEMENT_EVENTS.c.id.desc()).limit(limit)
        if name is not None:
            query = query.where(ENHANCEMENT_EVENTS.c.template_name == name)
        async with self._read() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [
            EnhancementEvent(
                **{k: v for k, v in row.items() if k not in {"id", "template_name"}}, name=row["template_name"]
            )
            for row in rows
        ]


async def _prune(connection: AsyncConnection, before: datetime) -> int:
    dropped = await connection.execute(delete(RENDER_EVENTS).where(RENDER_EVENTS.c.created_at < before))
    return int(dropped.rowcount)
