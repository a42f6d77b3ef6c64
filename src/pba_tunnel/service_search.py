"""The store reads search is built on (full text, trigram names, name pages, plain candidates), for the service."""

from __future__ import annotations

from collections.abc import Sequence

from .store import FullTextHit, PromptLabel, Store, StoredTemplate
from .store.matching import TextMatch


class SearchOps:
    """The store reads the search engine calls through the service, as part of the service."""

    _store: Store

    async def prompt_labels(
        self, *, cursor: str | None = None, limit: int = 1000
    ) -> tuple[list[PromptLabel], str | None]:
        """One page of the names and titles of listed prompts (not internal ones), by name: what typo tolerance
        compares a query with."""
        return await self._store.prompt_labels(cursor=cursor, limit=max(1, min(limit, 1000)))

    @property
    def has_full_text(self) -> bool:
        """Whether the database has a full-text index (else search matches words plainly)."""
        return self._store.dialect.fulltext is not None

    async def full_text(
        self, match: TextMatch, *, categories: Sequence[str], tags: Sequence[str], limit: int
    ) -> list[FullTextHit]:
        """Live prompts matching a parsed full-text query, best first."""
        return await self._store.full_text(match, categories=categories, tags=tags, limit=limit)

    async def similar_names(self, words: str, limit: int) -> list[tuple[str, str | None]] | None:
        """(name, title) of prompts whose name or title looks like ``words``, from the database's trigram index;
        None where there is none (search then compares names in memory)."""
        return await self._store.similar_names(words, limit)

    async def search_candidates(
        self, terms: Sequence[str], *, category: str | None, tags: Sequence[str], limit: int
    ) -> list[StoredTemplate]:
        """Live prompts containing every term somewhere (for databases without a full-text index)."""
        return await self._store.search_candidates(terms, category=category, tags=tags, limit=limit)

    async def reindex(self) -> int:
        """Rebuild the full-text index; how many templates it now holds."""
        return await self._store.reindex()
