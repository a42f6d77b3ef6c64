"""Copying a whole store to another database (SQLite to PostgreSQL and back), in batches, counts checked.

Every table of the schema is copied row for row with its ids, so versions, tags, render and enhancement events
keep pointing at their templates. The source is read in one transaction (one consistent snapshot) and the target
is written in one transaction: a copy that fails leaves the target as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..errors import ConflictError, StoreError
from ..local_errors import StoreMissingError
from .connections import bump_generation
from .models import METADATA
from .opening import sqlite_file
from .store import Store

GENERATION_TABLE = "store_meta"  # a new store already holds its generation there: not "content"
# What people call the rows of each table, in the order a summary names them.
LABELS = {
    "templates": "templates",
    "template_versions": "versions",
    "template_tags": "tags",
    "render_events": "render events",
    "enhancement_events": "enhancement events",
    "template_labels": "labels",
    "template_changes": "recorded changes (label moves, deletes, restores)",
    "usage_daily": "daily usage rows",
    "api_tokens": "API tokens",
}


def summarize(counts: dict[str, int]) -> str:
    """``5 templates, 7 versions, …``: the tables holding rows, the known ones first, in people's words."""
    order = [*LABELS, *sorted(set(counts) - set(LABELS) - {GENERATION_TABLE})]
    return ", ".join(f"{counts[t]} {LABELS.get(t, t)}" for t in order if counts.get(t))


class TargetNotEmptyError(ConflictError):
    """The target of a copy already holds templates or events (``counts``: rows by table)."""

    def __init__(self, where: str, counts: dict[str, int]) -> None:
        super().__init__(f"the target store {where} is not empty (it holds {summarize(counts)})")
        self.counts = counts


@dataclass
class CopyReport:
    """Rows copied by table (checked equal in source and target) and how many prompts the target's index holds."""

    source: str
    target: str
    rows: dict[str, int] = field(default_factory=dict)
    indexed: int = 0


def describe_url(url: str) -> str:
    """A store's URL without its password (only what follows the @), or its file for SQLite."""
    return url.split("///", 1)[-1] if url.startswith("sqlite") else url.split("@")[-1]


def _tables() -> list[Table]:
    return list(METADATA.sorted_tables)  # parents before children


def _utc(row: dict[str, Any]) -> dict[str, Any]:
    # SQLite gives stored UTC timestamps back without a zone; PostgreSQL wants them zoned.
    return {k: v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None else v for k, v in row.items()}


async def _counts(connection: AsyncConnection, tables: list[Table]) -> dict[str, int]:
    return {t.name: int((await connection.execute(select(func.count()).select_from(t))).scalar_one()) for t in tables}


async def copy_store(source_url: str, target_url: str, *, replace: bool = False, batch_size: int = 1000) -> CopyReport:
    """Copy every row of the store at ``source_url`` into the store at ``target_url`` (created or migrated).

    A target holding anything is refused with TargetNotEmptyError unless ``replace``, which empties it first
    (in the copy's transaction). An SQLite source file that does not exist is StoreMissingError.
    """
    if describe_url(source_url) == describe_url(target_url):
        raise StoreError(f"the source and the target of the copy are the same store ({describe_url(source_url)})")
    source_file = sqlite_file(source_url)
    if source_file is not None and not Path(source_file).is_file():
        raise StoreMissingError(source_file)  # a mistyped path: opening it would create an empty store there
    source = await Store.open(source_url)
    try:
        target = await Store.open(target_url)
        try:
            return await _copy(source, target, replace=replace, batch_size=max(1, batch_size))
        finally:
            await target.close()
    finally:
        await source.close()


async def _copy(source: Store, target: Store, *, replace: bool, batch_size: int) -> CopyReport:
    tables = _tables()
    report = CopyReport(describe_url(source.url), describe_url(target.url))
    async with source.snapshot() as reader, target.bulk_writer() as writer:
        held = {name: n for name, n in (await _counts(writer, tables)).items() if name != GENERATION_TABLE}
        if any(held.values()) and not replace:
            raise TargetNotEmptyError(report.target, held)
        for table in reversed(tables):  # children before parents
            await writer.execute(delete(table))
        for table in tables:
            result = await reader.stream(select(table).order_by(*table.primary_key.columns))
            async for rows in result.mappings().partitions(batch_size):
                await writer.execute(table.insert(), [_utc(dict(row)) for row in rows])
            await target.dialect.reset_ids(writer, table)
        report.rows = await _counts(reader, tables)
        copied = await _counts(writer, tables)
        if copied != report.rows:
            wrong = {name: (n, copied.get(name)) for name, n in report.rows.items() if copied.get(name) != n}
            raise StoreError(f"the copy to {report.target} does not match its source (source, target rows): {wrong}")
        await bump_generation(writer)  # instances already serving the target notice the new content
        if target.dialect.fulltext is not None:
            report.indexed = await target.dialect.fulltext.rebuild(writer)
    return report
