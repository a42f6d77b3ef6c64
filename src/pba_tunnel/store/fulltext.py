"""Full-text search in SQLite: an FTS5 table kept in step with every write, ranked with weighted bm25.

The index holds one row per live prompt that is not internal (rowid = templates.id). It is an external-content
table over a view that computes each indexed document from the stored row and its current version, so the
text is not kept a second time (the index was over half of the file); highlights and snippets read the view.
Writes update it in the same transaction: ``remove`` while the row still reads as it was indexed (FTS5 must
be told the old words), ``index`` once it reads as it is now. ``rebuild`` indexes with one INSERT … SELECT,
far faster than row-by-row maintenance. Only here does SQL know about FTS5; PostgreSQL has its own
implementation (``pg_fulltext.py``) behind the ``FullText`` methods.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from .matching import TextMatch, fts5_expression

TABLE = "templates_fts"
CONTENT = "templates_fts_document"  # the view the index reads its documents from (not "_content": FTS5 uses it)
COLUMNS = ("name", "title", "description", "tags", "category", "arguments", "body")
# name, title and tags above description, which is above the body; category and argument names in between.
WEIGHTS = {"name": 10.0, "title": 8.0, "description": 4.0, "tags": 6.0, "category": 3.0, "arguments": 2.0, "body": 1.0}
MARK_START, MARK_END = "\x02", "\x03"


# The indexed document of a template, computed by SQLite from the stored row and its current version, so
# one INSERT … SELECT indexes one template or a hundred thousand without a round trip through Python:
# hyphens and underscores split words ("code-review" finds "review"), tags and argument names come out of
# their JSON, and the body is the source after the closing '---' of the front matter.
CREATE_VIEW = f"""CREATE VIEW IF NOT EXISTS {CONTENT} AS
SELECT t.id AS id,
       replace(replace(t.name, '-', ' '), '_', ' ') AS name,
       coalesce(t.title, '') AS title,
       t.description AS description,
       replace(replace(replace(t.tags_json, '[', ''), ']', ''), '"', '') AS tags,
       replace(replace(coalesce(t.category, ''), '/', ' '), '-', ' ') AS category,
       coalesce((SELECT group_concat(replace(json_extract(a.value, '$.name'), '_', ' '), ' ')
                 FROM json_each(t.arguments_json) AS a), '') AS arguments,
       CASE WHEN substr(v.source, 1, 4) = '---' || char(10) AND instr(substr(v.source, 5), char(10) || '---') > 0
            THEN substr(v.source, instr(substr(v.source, 5), char(10) || '---') + 9)
            ELSE v.source END AS body
FROM templates AS t
JOIN template_versions AS v ON v.template_id = t.id AND v.version = t.current_version
WHERE t.kind = 'prompt' AND t.deleted_at IS NULL AND NOT t.internal"""

CREATE = f"""CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5(
    {", ".join(COLUMNS)}, content = '{CONTENT}', content_rowid = 'id',
    tokenize = 'porter unicode61', prefix = '2 3'
)"""
BM25 = f"bm25({TABLE}, {', '.join(str(w) for w in WEIGHTS.values())})"
_COLUMN_LIST = ", ".join(COLUMNS)
FILL = f"INSERT INTO {TABLE}(rowid, {_COLUMN_LIST}) SELECT id, {_COLUMN_LIST} FROM {CONTENT}"
# Drop, create and fill the index and its view (the migration that introduced the view runs them too).
REBUILD_STATEMENTS = (f"DROP TABLE IF EXISTS {TABLE}", f"DROP VIEW IF EXISTS {CONTENT}", CREATE_VIEW, CREATE, FILL)
_INSERT_ALL = text(FILL)
# Ids as one JSON array: any number of templates in one statement, within SQLite's bound-parameter limit.
_INSERT_SOME = text(f"{_INSERT_ALL.text} WHERE id IN (SELECT value FROM json_each(:ids))")
_DELETE_SOME = text(
    f"INSERT INTO {TABLE}({TABLE}, rowid, {_COLUMN_LIST}) "
    f"SELECT 'delete', id, {_COLUMN_LIST} FROM {CONTENT} WHERE id IN (SELECT value FROM json_each(:ids))"
)


@dataclass(frozen=True)
class RankedHit:
    """A match: template id, bm25 rank (lower is better), the fields that matched and a marked snippet."""

    template_id: int
    rank: float
    matched: list[str]
    snippet: str


class FullText(Protocol):
    """A database's full-text index: kept in step with writes, rebuilt on demand, queried ranked."""

    async def index(self, connection: AsyncConnection, template_id: int) -> None:
        """(Re)index one template after a write, in the writer's transaction."""

    async def remove(self, connection: AsyncConnection, template_id: int) -> None:
        """Drop a deleted template from the index."""

    async def index_many(self, connection: AsyncConnection, template_ids: Sequence[int]) -> None:
        """``index`` for many templates at once."""

    async def remove_many(self, connection: AsyncConnection, template_ids: Sequence[int]) -> None:
        """``remove`` for many templates at once, before their rows change."""

    async def rebuild(self, connection: AsyncConnection) -> int:
        """Refill the index from every live prompt; how many it holds."""
        ...

    async def ranked(
        self,
        connection: AsyncConnection,
        match: TextMatch,
        *,
        categories: Sequence[str],
        tags: Sequence[str],
        limit: int,
    ) -> list[RankedHit]:
        """The best ``limit`` matches, best first."""
        ...

    async def similar(self, connection: AsyncConnection, words: str, limit: int) -> list[tuple[str, str | None]] | None:
        """(name, title) of prompts whose label looks like ``words``; None: compare names in memory instead."""
        ...


class SqliteFullText:
    """FTS5 index maintenance and queries."""

    async def index(self, connection: AsyncConnection, template_id: int) -> None:
        """Index one template as it is stored now (partials, internal and deleted templates are left out);
        it must not be in the index (``remove`` it before changing it)."""
        await self.index_many(connection, [template_id])

    async def remove(self, connection: AsyncConnection, template_id: int) -> None:
        """Drop a template from the index; call it before the row changes (FTS5 needs the words it indexed)."""
        await self.remove_many(connection, [template_id])

    async def index_many(self, connection: AsyncConnection, template_ids: Sequence[int]) -> None:
        """``index`` for many templates in one statement."""
        if template_ids:
            await connection.execute(_INSERT_SOME, {"ids": json.dumps(list(template_ids))})

    async def remove_many(self, connection: AsyncConnection, template_ids: Sequence[int]) -> None:
        """``remove`` for many templates in one statement (ids not in the index are ignored)."""
        if template_ids:
            await connection.execute(_DELETE_SOME, {"ids": json.dumps(list(template_ids))})

    async def rebuild(self, connection: AsyncConnection) -> int:
        """Empty the index and refill it from every live prompt, in one statement."""
        # Dropping the table is far cheaper than deleting every row of a full-text index.
        for statement in REBUILD_STATEMENTS:
            await connection.execute(text(statement))
        await connection.execute(text(f"INSERT INTO {TABLE}({TABLE}) VALUES ('optimize')"))
        count = (await connection.execute(text(f"SELECT count(*) FROM {TABLE}"))).scalar_one()
        return int(count)

    async def ranked(
        self,
        connection: AsyncConnection,
        match: TextMatch,
        *,
        categories: Sequence[str],
        tags: Sequence[str],
        limit: int,
    ) -> list[RankedHit]:
        """The best ``limit`` matches with matched fields and a snippet, in one statement."""
        clauses, params = [f"{TABLE} MATCH :match"], {"match": fts5_expression(match), "limit": limit}
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
        # Rank in a subquery that keeps only the best rows, then highlight just those: for a word in a third
        # of 100k templates this is ~20% faster than ranking and highlighting in one statement.
        query = text(
            f"SELECT best.rowid, best.score, {snippet}, {columns} FROM "
            f"(SELECT rowid, {BM25} AS score FROM {TABLE} WHERE {' AND '.join(clauses)} ORDER BY score LIMIT :limit)"
            f" AS best JOIN {TABLE} ON {TABLE}.rowid = best.rowid WHERE {TABLE} MATCH :match ORDER BY best.score"
        )
        hits = []
        for row in await connection.execute(query, params):
            matched = [name for name, value in zip(COLUMNS, row[3:], strict=True) if value and MARK_START in value]
            hits.append(RankedHit(row[0], row[1], matched, readable_snippet(row[2])))
        return hits

    async def similar(
        self,
        connection: AsyncConnection,  # noqa: ARG002 (the interface's arguments, unused here)
        words: str,  # noqa: ARG002
        limit: int,  # noqa: ARG002
    ) -> list[tuple[str, str | None]] | None:
        """None: SQLite has no trigram index; search compares the names it keeps in memory."""
        return None


def readable_snippet(snippet: str) -> str:
    """Snippet markers as Markdown bold, whitespace collapsed to one line."""
    return " ".join(snippet.replace(MARK_START, "**").replace(MARK_END, "**").split())
