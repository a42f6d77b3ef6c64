"""Full-text search in SQLite: an FTS5 table kept in step with every write, ranked with weighted bm25.

The index holds one row per live prompt (rowid = templates.id). Writes update it in the same transaction;
``rebuild`` refills it in one statement, which is ~3x faster than row-by-row maintenance for big imports.
Only here does SQL know about FTS5; PostgreSQL gets its own implementation behind the same methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from ..templates.parsing import split_front_matter
from .records import TemplateWrite

TABLE = "templates_fts"
COLUMNS = ("name", "title", "description", "tags", "category", "arguments", "body")
# name, title and tags above description, which is above the body; category and argument names in between.
WEIGHTS = {"name": 10.0, "title": 8.0, "description": 4.0, "tags": 6.0, "category": 3.0, "arguments": 2.0, "body": 1.0}
MARK_START, MARK_END = "\x02", "\x03"


@dataclass(frozen=True)
class Document:
    """What the index knows of one template."""

    name: str
    title: str
    description: str
    tags: str
    category: str
    arguments: str
    body: str

    def row(self, template_id: int) -> dict[str, Any]:
        """Bind parameters for an INSERT into the index."""
        return {"id": template_id, **self.__dict__}


def document_of(item: TemplateWrite) -> Document:
    """The indexed text of a template: hyphens and underscores split words, so 'code-review' finds 'review'."""
    try:
        _front, body, _line = split_front_matter(item.source)
    except Exception:  # only valid templates are stored; a raw source still indexes as text
        body = item.source
    return Document(
        name=item.name.replace("-", " ").replace("_", " "),
        title=item.title or "",
        description=item.description,
        tags=" ".join(item.tags),
        category=(item.category or "").replace("/", " ").replace("-", " "),
        arguments=" ".join(a.name.replace("_", " ") for a in item.arguments),
        body=body,
    )


CREATE = f"""CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5(
    {", ".join(COLUMNS)}, tokenize = 'porter unicode61', prefix = '2 3'
)"""
SET_RANK = f"INSERT INTO {TABLE}({TABLE}, rank) VALUES ('rank', 'bm25({', '.join(str(w) for w in WEIGHTS.values())})')"
_INSERT = text(f"INSERT INTO {TABLE}(rowid, {', '.join(COLUMNS)}) VALUES (:id, {', '.join(':' + c for c in COLUMNS)})")
_DELETE = text(f"DELETE FROM {TABLE} WHERE rowid = :id")


@dataclass(frozen=True)
class RankedHit:
    """A match: template id, bm25 rank (lower is better), the fields that matched and a marked snippet."""

    template_id: int
    rank: float
    matched: list[str]
    snippet: str


class SqliteFullText:
    """FTS5 index maintenance and queries."""

    async def index(self, connection: AsyncConnection, template_id: int, item: TemplateWrite) -> None:
        """(Re)index one template; partials are never indexed."""
        await connection.execute(_DELETE, {"id": template_id})
        if item.kind == "prompt":
            await connection.execute(_INSERT, document_of(item).row(template_id))

    async def index_many(self, connection: AsyncConnection, rows: Sequence[tuple[int, TemplateWrite]]) -> None:
        """Index new templates in one statement."""
        batch = [document_of(item).row(tid) for tid, item in rows if item.kind == "prompt"]
        if batch:
            await connection.execute(_INSERT, batch)

    async def remove(self, connection: AsyncConnection, template_id: int) -> None:
        """Drop a template from the index (deleted templates are not found)."""
        await connection.execute(_DELETE, {"id": template_id})

    async def rebuild(self, connection: AsyncConnection, rows: Sequence[tuple[int, TemplateWrite]]) -> int:
        """Empty the index and refill it from ``rows`` (every live prompt)."""
        await connection.execute(text(f"DELETE FROM {TABLE}"))
        await self.index_many(connection, rows)
        await connection.execute(text(f"INSERT INTO {TABLE}({TABLE}) VALUES ('optimize')"))
        return len(rows)

    async def ranked(
        self, connection: AsyncConnection, match: str, *, categories: Sequence[str], tags: Sequence[str], limit: int
    ) -> list[RankedHit]:
        """The best ``limit`` matches with matched fields and a snippet, in one statement.

        FTS5 sorts ``ORDER BY rank`` itself and stops at the LIMIT, so the highlight and snippet functions
        run for the returned rows only, not for every match of a common word.
        """
        clauses, params = [f"{TABLE} MATCH :match"], {"match": match, "limit": limit}
        for index, category in enumerate(categories):
            clauses.append(
                f"rowid IN (SELECT id FROM templates WHERE category = :c{index} OR category LIKE :cp{index})"
            )
            params.update({f"c{index}": category, f"cp{index}": f"{category}/%"})
        for index, tag in enumerate(tags):
            clauses.append(f"rowid IN (SELECT template_id FROM template_tags WHERE tag = :t{index})")
            params[f"t{index}"] = tag
        columns = ", ".join(f"highlight({TABLE}, {i}, '{MARK_START}', '{MARK_END}')" for i in range(len(COLUMNS)))
        snippet = f"snippet({TABLE}, -1, '{MARK_START}', '{MARK_END}', '…', 16)"
        query = text(
            f"SELECT rowid, rank, {snippet}, {columns} FROM {TABLE} WHERE {' AND '.join(clauses)} "
            "ORDER BY rank LIMIT :limit"
        )
        hits = []
        for row in await connection.execute(query, params):
            matched = [name for name, value in zip(COLUMNS, row[3:], strict=True) if value and MARK_START in value]
            hits.append(RankedHit(row[0], row[1], matched, _readable(row[2])))
        return hits


def _readable(snippet: str) -> str:
    """Snippet markers as Markdown bold, whitespace collapsed to one line."""
    return " ".join(snippet.replace(MARK_START, "**").replace(MARK_END, "**").split())
