"""Usage statistics: renders per template, version, label, client and day (UTC), kept as daily rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from . import histogram
from .connections import StoreBase
from .models import USAGE_DAILY
from .records import RenderEvent, UsageStat
from .tables import TEMPLATES as _T

UsageGroup = Literal["template", "client", "label", "version"]
_Key = tuple[int, date, int, str, str]  # template id, day, version, label, client


@dataclass
class _Day:
    renders: int = 0
    errors: int = 0
    total_ms: float = 0.0
    last_used: datetime | None = None
    counts: dict[int, int] = field(default_factory=dict)

    def add(self, renders: int, errors: int, total_ms: float, last_used: datetime, counts: dict[int, int]) -> None:
        if last_used.tzinfo is None:  # SQLite hands back naive UTC
            last_used = last_used.replace(tzinfo=UTC)
        self.renders += renders
        self.errors += errors
        self.total_ms += total_ms
        self.last_used = last_used if self.last_used is None else max(self.last_used, last_used)
        histogram.merge(self.counts, counts)


def daily(events: Sequence[RenderEvent], ids: dict[str, int]) -> dict[_Key, _Day]:
    """The events summed per template, day, version, label and client (only successful renders are timed)."""
    days: dict[_Key, _Day] = {}
    for event in events:
        template_id = ids.get(event.name)
        if template_id is None:
            continue
        key = (template_id, event.created_at.date(), event.version, event.label or "", event.client or "")
        entry = days.setdefault(key, _Day())
        failed = event.error is not None
        counts = {} if failed else {histogram.bucket(event.duration_ms): 1}
        entry.add(
            0 if failed else 1, 1 if failed else 0, 0.0 if failed else event.duration_ms, event.created_at, counts
        )
    return days


async def record_daily(connection: AsyncConnection, days: dict[_Key, _Day]) -> None:
    """Add the sums to the daily rows, in the writer's transaction: merged into a row of the same key if one is
    there, else a new row (two processes may both add one at once: readers sum)."""
    if not days:
        return
    table = USAGE_DAILY
    existing = await connection.execute(
        select(table).where(table.c.template_id.in_({k[0] for k in days}), table.c.day.in_({k[1] for k in days}))
    )
    rows: dict[_Key, int] = {}
    stored: dict[int, _Day] = {}
    for row in existing.mappings():
        key = (row["template_id"], row["day"], row["version"], row["label"], row["client"])
        if key in days and key not in rows:
            rows[key] = row["id"]
            stored[row["id"]] = _Day()
            stored[row["id"]].add(
                row["renders"],
                row["errors"],
                row["total_ms"],
                row["last_used_at"],
                histogram.loads(row["histogram_json"]),
            )
    new = []
    for key, day in days.items():
        row_id = rows.get(key)
        if row_id is None:
            new.append(
                {
                    "template_id": key[0], "day": key[1], "version": key[2], "label": key[3], "client": key[4],
                    "renders": day.renders, "errors": day.errors, "total_ms": day.total_ms,
                    "last_used_at": day.last_used, "histogram_json": histogram.dumps(day.counts),
                }
            )  # fmt: skip
            continue
        merged = stored[row_id]
        assert day.last_used is not None
        merged.add(day.renders, day.errors, day.total_ms, day.last_used, day.counts)
        await connection.execute(
            update(table)
            .where(table.c.id == row_id)
            .values(
                renders=merged.renders,
                errors=merged.errors,
                total_ms=merged.total_ms,
                last_used_at=merged.last_used,
                histogram_json=histogram.dumps(merged.counts),
            )
        )
    if new:
        await connection.execute(insert(table), new)


async def prune_daily(connection: AsyncConnection, before: date) -> int:
    """Forget daily rows older than ``before``."""
    dropped = await connection.execute(delete(USAGE_DAILY).where(USAGE_DAILY.c.day < before))
    return int(dropped.rowcount)


class UsageStore(StoreBase):
    """Reads of the daily usage rows."""

    async def usage(self, *, since: date, name: str | None = None, by: UsageGroup = "template") -> list[UsageStat]:
        """Renders since ``since`` (a day, UTC) per template, or per template and client, label or version."""
        table = USAGE_DAILY
        group = {"template": None, "client": table.c.client, "label": table.c.label, "version": table.c.version}[by]
        query = (
            select(
                _T.c.name,
                table.c.renders,
                table.c.errors,
                table.c.last_used_at,
                table.c.histogram_json,
                *([group] if group is not None else []),
            )
            .join(_T, _T.c.id == table.c.template_id)
            .where(table.c.day >= since)
        )
        if name is not None:
            query = query.where(_T.c.name == name)
        totals: dict[tuple[str, str | None], _Day] = {}
        async with self._read() as connection:
            for row in await connection.execute(query):
                key = (row[0], None if group is None else str(row[5]))
                totals.setdefault(key, _Day()).add(row[1], row[2], 0.0, row[3], histogram.loads(row[4]))
        stats = [
            UsageStat(
                name=key[0],
                group=key[1],
                renders=day.renders,
                errors=day.errors,
                last_used=day.last_used,
                p50_ms=histogram.percentile(day.counts, 0.5),
                p95_ms=histogram.percentile(day.counts, 0.95),
            )
            for key, day in totals.items()
            if day.last_used is not None
        ]
        return sorted(stats, key=lambda s: (-s.renders - s.errors, s.name, s.group or ""))

    async def unused(self, *, since: date) -> list[tuple[str, datetime | None]]:
        """Live, listed prompts nobody rendered since ``since``, with when they last were (None: not in the kept
        days)."""
        table = USAGE_DAILY
        used = select(table.c.template_id).where(table.c.day >= since)
        last = (
            select(table.c.template_id, func.max(table.c.last_used_at).label("last"))
            .group_by(table.c.template_id)
            .subquery()
        )
        query = (
            select(_T.c.name, last.c.last)
            .outerjoin(last, last.c.template_id == _T.c.id)
            .where(_T.c.kind == "prompt", _T.c.deleted_at.is_(None), _T.c.internal.is_(False))
            .where(_T.c.id.not_in(used))
            .order_by(_T.c.name)
        )
        async with self._read() as connection:
            return [(row[0], row[1]) for row in await connection.execute(query)]
