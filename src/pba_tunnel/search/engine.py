"""Search through the service: full text first, any-word fallback, then typo-tolerant names and titles."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from ..paging import TemplateListing
from .fuzzy import BATCH, SHORTLIST, IndexBuilder, NameIndex, build_index
from .models import Mode, SearchHit, SearchResult
from .plain import Candidates
from .plain import search as plain_search
from .query import Query, parse_query, text_matches

if TYPE_CHECKING:
    from ..store import FullTextHit, PromptLabel, StoredTemplate, TemplateSummary
    from ..store.matching import TextMatch

FUZZY_BELOW = 3  # fewer full-text hits than this and the fuzzy fallback adds candidates
RERANK_POOL = 30  # full-text candidates reranked by how well their name and title cover the query
STRONG_SIMILARITY = 0.85  # a fuzzy name/title match this close outranks a loosened (any-word) full-text hit
NAME_COVERAGE_BONUS = 8.0  # bm25 points for a name or title holding every query word


def _hit(summary: TemplateSummary, score: float, snippet: str, matched: list[str], fuzzy: bool = False) -> SearchHit:
    return SearchHit(
        name=summary.name,
        title=summary.title,
        description=summary.description,
        category=summary.category,
        tags=summary.tags,
        version=summary.version,
        score=round(score, 4),
        snippet=snippet,
        matched=matched,
        fuzzy=fuzzy,
    )


def _stem_words(text: str) -> list[str]:
    return [w[:5] for w in re.findall(r"[a-z0-9]+", text.lower())]


def _rerank(query: Query, hits: list[SearchHit]) -> list[SearchHit]:
    """People type names and titles: a template whose name or title holds every query word goes first.

    bm25 alone lets a long body that repeats a word outrank the template named after it. Words are compared
    on their first five letters, a crude stem that matches "review"/"reviews"/"reviewer" as the index does.
    """
    wanted = [w for term in query.included for w in _stem_words(term.text)]
    if not wanted:
        return hits

    def key(hit: SearchHit) -> float:
        label = _stem_words(f"{hit.name.replace('-', ' ')} {hit.title or ''}")
        covered = sum(w in label for w in wanted) / len(wanted)
        exact = wanted in (_stem_words(hit.name.replace("-", " ")), _stem_words(hit.title or ""))
        return hit.score + NAME_COVERAGE_BONUS * (covered + exact)

    return sorted(hits, key=key, reverse=True)


def _passes(summary: TemplateSummary | SearchHit, categories: list[str], tags: list[str]) -> bool:
    category = (summary.category or "").lower()
    in_category = all(category == c or category.startswith(f"{c}/") for c in categories)
    return in_category and all(t in [x.lower() for x in summary.tags] for t in tags)


class SearchSource(TemplateListing, Candidates, Protocol):
    """What search reads through (the service): listings, full text, single templates, the store generation."""

    @property
    def has_full_text(self) -> bool:
        """Whether the database has a full-text index."""
        ...

    @property
    def generation(self) -> int:
        """The store generation last seen by :meth:`sync_changes`."""
        ...

    async def sync_changes(self) -> bool:
        """Notice other processes' writes; True when the store changed."""
        ...

    async def full_text(
        self, match: TextMatch, *, categories: Sequence[str], tags: Sequence[str], limit: int
    ) -> list[FullTextHit]:
        """Live prompts matching a parsed full-text query, best first."""
        ...

    async def get(self, name: str) -> StoredTemplate:
        """The current version of a template."""
        ...

    async def similar_names(self, words: str, limit: int) -> list[tuple[str, str | None]] | None:
        """(name, title) of prompts whose label looks like ``words``; None: no trigram index, compare in memory."""
        ...

    async def prompt_labels(
        self, *, cursor: str | None = None, limit: int = 1000
    ) -> tuple[list[PromptLabel], str | None]:
        """One page of the names and titles of listed prompts, by name, and the cursor of the next."""
        ...


class Searcher:
    """Runs searches for one service; keeps the fuzzy name index until the store generation moves."""

    def __init__(self, service: SearchSource) -> None:
        self.service = service
        self._names: NameIndex | None = None

    async def search(
        self, text: str, *, category: str | None = None, tags: list[str] | None = None, limit: int = 10
    ) -> SearchResult:
        """The best ``limit`` templates for ``text`` (see ``search.query`` for the query language)."""
        query = parse_query(text)
        categories = [*query.categories, *([category.lower()] if category else [])]
        wanted_tags = [*query.tags, *(t.lower() for t in tags or [])]
        if not query.terms:
            page = await self.service.list_templates(
                category=categories[0] if categories else None, tag=wanted_tags[0] if wanted_tags else None, limit=1000
            )
            items = [i for i in page.items if _passes(i, categories, wanted_tags)][:limit]
            return SearchResult(query=text, mode="filter", results=[_hit(i, 0.0, i.description, []) for i in items])
        if not self.service.has_full_text:
            return await self._plain(text, query, categories, wanted_tags, limit)

        mode: Mode = "all"
        notice = None
        pool = max(limit, RERANK_POOL)
        hits = await self.service.full_text(query.text_match(), categories=categories, tags=wanted_tags, limit=pool)
        if not hits and len(query.included) > 1:
            hits = await self.service.full_text(
                query.text_match(any_word=True), categories=categories, tags=wanted_tags, limit=pool
            )
            if hits:
                mode = "any"
                words = ", ".join(t.text for t in query.included)
                notice = f"no template contains all of {words}; showing templates that contain any of them"
        results = _rerank(query, [_hit(h.summary, h.score, h.snippet, h.matched) for h in hits])[:limit]
        if mode == "any" or len(results) < min(FUZZY_BELOW, limit):
            # Words that match nothing together are often typos: similar names and titles go first when they
            # are close, and fill the list when full text found little.
            similar = await self._fuzzy(query, categories, wanted_tags, limit, {r.name for r in results})
            if not results and similar:
                mode = "fuzzy"
                notice = "nothing contains these words; showing templates whose name or title looks similar"
                results = similar
            elif mode == "any":  # some words matched nothing: close names first, they are likely typos
                strong = [h for h in similar if h.score >= STRONG_SIMILARITY]
                results = [*strong, *results]
            else:  # every word matched, in few templates: similar names only fill the list
                results = [*results, *similar]
        return SearchResult(query=text, mode=mode, notice=notice, results=results[:limit])

    async def _names_index(self) -> NameIndex:
        await self.service.sync_changes()
        generation = self.service.generation
        if self._names is None or self._names.generation != generation:
            self._names = None  # the old index goes before the new one is built, not after
            builder = IndexBuilder(generation)
            cursor: str | None = None
            while True:  # names and titles only, a page of BATCH rows at a time: no row outlives its page
                page, cursor = await self.service.prompt_labels(cursor=cursor, limit=BATCH)
                builder.add(page)
                if cursor is None:
                    break
            self._names = builder.index()
        return self._names

    async def _fuzzy(
        self, query: Query, categories: list[str], tags: list[str], limit: int, exclude: set[str]
    ) -> list[SearchHit]:
        words = query.plain_text()
        shortlist = await self.service.similar_names(words, SHORTLIST + len(exclude))
        # A database with a trigram index shortlists similar labels itself; the same word-by-word rescoring
        # decides on both databases.
        index = await self._names_index() if shortlist is None else build_index(self.service.generation, shortlist)
        hits = []
        for name, similarity in index.closest(words, limit * 4, exclude):
            try:
                summary = await self.service.get(name)
            except Exception:  # deleted since the index was built
                continue
            if _passes(summary, categories, tags):
                hits.append(_hit(summary, similarity / 100, summary.description, ["name", "title"], fuzzy=True))
            if len(hits) == limit:
                break
        return hits

    async def _plain(self, text: str, query: Query, categories: list[str], tags: list[str], limit: int) -> SearchResult:
        hits = await plain_search(
            self.service,
            query.plain_text(),
            category=categories[0] if categories else None,
            tags=tags,
            limit=limit,
        )
        return SearchResult(query=text, mode="all", results=hits)


def hit_matches(
    text: str, hit: SearchHit, source: str, *, category: str | None, tags: list[str] | None, any_word: bool
) -> bool:
    """Whether ``hit`` (as one version is, with that version's ``source``) matches the query ``text`` and the
    filters: search ranks the newest versions, and a label view checks the version it shows with this."""
    query = parse_query(text)
    categories = [*query.categories, *([category.lower()] if category else [])]
    wanted_tags = [*query.tags, *(t.lower() for t in tags or [])]
    if not _passes(hit, categories, wanted_tags):
        return False
    fields = [hit.name, hit.title or "", hit.description, hit.category or "", *hit.tags, source]
    return text_matches(query, "\n".join(fields), any_word=any_word)
