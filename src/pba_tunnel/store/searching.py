"""Search queries: the full-text index (ranked), plain word matching where there is none, and reindexing."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import DBAPIError

from ..errors import QueryError, StoreError
from .connections import StoreBase
from .matching import TextMatch
from .models import TAGS
from .records import StoredTemplate, TemplateSummary
from .tables import TEMPLATES as _T
from .tables import VERSION_COLUMNS, FullTextHit, PromptLabel, page_of, prompt_pages, stored_from_row, summary_fields
from .tables import VERSIONS as _V

# Only what typo tolerance compares (no description or arguments), in pages by name; built once.
_LABEL_PAGES = prompt_pages(select(_T.c.name, _T.c.title))


class SearchReads(StoreBase):
    """Finding templates by their words."""

    async def search_candidates(
        self, terms: Sequence[str], *, category: str | None, tags: Sequence[str], limit: int
    ) -> list[StoredTemplate]:
        """Live, listed prompts whose name, title, description, tags, category or body contain every term."""
        fields = (_T.c.name, _T.c.title, _T.c.description, _T.c.tags_json, _T.c.category, _V.c.source)
        query = (
            select(_T, *VERSION_COLUMNS)
            .join(_V, and_(_V.c.template_id == _T.c.id, _V.c.version == _T.c.current_version))
            .where(_T.c.kind == "prompt", _T.c.deleted_at.is_(None), _T.c.internal.is_(False))
            .order_by(_T.c.name)
            .limit(limit)
        )
        for term in terms:
            pattern = "%" + re.sub(r"[%_\\\\]", "", term) + "%"  # user text cannot inject LIKE wildcards
            query = query.where(or_(*(func.lower(f).like(pattern) for f in fields)))
        if category:
            query = query.where(or_(_T.c.category == category, _T.c.category.startswith(f"{category}/")))
        for tag in tags:
            query = query.where(_T.c.id.in_(select(TAGS.c.template_id).where(TAGS.c.tag == tag)))
        async with self._read() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [stored_from_row(r, r["current_version"]) for r in rows]

    async def full_text(
        self, match: TextMatch, *, categories: Sequence[str], tags: Sequence[str], limit: int
    ) -> list[FullTextHit]:
        """Live prompts matching a parsed query, best first, with matched fields and a snippet."""
        fulltext = self.dialect.fulltext
        if fulltext is None:
            raise StoreError("full-text search is not available on this database")
        async with self._read() as connection:
            try:
                ranked = await fulltext.ranked(connection, match, categories=categories, tags=tags, limit=limit)
            except DBAPIError as exc:
                if any(word in str(exc.orig).lower() for word in ("fts5", "tsquery")):
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
                    summary=TemplateSummary(**summary_fields(row), version=row["current_version"]),
                    score=-entry.rank,
                    matched=entry.matched,
                    snippet=entry.snippet,
                )
            )
        return hits

    async def similar_names(self, words: str, limit: int) -> list[tuple[str, str | None]] | None:
        """(name, title) of live prompts whose name or title looks like ``words`` (a trigram index), most similar
        first; None where the database has no such index."""
        fulltext = self.dialect.fulltext
        if fulltext is None:
            return None
        async with self._read() as connection:
            return await fulltext.similar(connection, words, limit)

    async def prompt_labels(self, *, cursor: str | None, limit: int) -> tuple[list[PromptLabel], str | None]:
        """One page of the names and titles of live, listed prompts, by name, and the cursor of the next."""
        async with self._read_statement() as connection:
            return await page_of(connection, _LABEL_PAGES, PromptLabel, cursor, limit)

    async def reindex(self) -> int:
        """Rebuild the full-text index from the current version of every live prompt (one bulk rebuild)."""
        if self.dialect.fulltext is None:
            return 0
        async with self._write() as connection:
            return await self.dialect.fulltext.rebuild(connection)
