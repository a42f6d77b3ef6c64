"""Plain search for databases without a full-text index: every word must appear; name and title rank first."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from ..store import StoredTemplate
from .models import SearchHit

FIELD_WEIGHTS = {"name": 5.0, "title": 4.0, "tags": 3.0, "category": 2.0, "description": 2.0, "body": 1.0}
_WORD = re.compile(r"[\w-]+", re.UNICODE)


class Candidates(Protocol):
    """Where plain search finds its candidates (the service)."""

    async def search_candidates(
        self, terms: Sequence[str], *, category: str | None, tags: Sequence[str], limit: int
    ) -> list[StoredTemplate]:
        """Live prompts containing every term somewhere."""
        ...


def query_terms(query: str) -> list[str]:
    """Lower-cased words of a query (punctuation is ignored)."""
    return [w.lower() for w in _WORD.findall(query)][:20]


def _snippet(text: str, term: str, width: int = 160) -> str:
    index = text.lower().find(term)
    if index < 0:
        return text[:width].strip()
    start = max(0, index - width // 3)
    piece = text[start : start + width].replace("\n", " ").strip()
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")


async def search(
    source: Candidates, query: str, *, category: str | None = None, tags: list[str] | None = None, limit: int = 10
) -> list[SearchHit]:
    """Templates containing every word of ``query``, best first."""
    terms = query_terms(query)
    if not terms:
        return []
    candidates = await source.search_candidates(terms, category=category, tags=tags or [], limit=500)
    hits: list[SearchHit] = []
    for candidate in candidates:
        fields = {
            "name": candidate.name.lower(),
            "title": (candidate.title or "").lower(),
            "tags": " ".join(candidate.tags).lower(),
            "category": (candidate.category or "").lower(),
            "description": candidate.description.lower(),
            "body": candidate.source.lower(),
        }
        score = 0.0
        matched: set[str] = set()
        for term in terms:
            for field, text in fields.items():
                if term in text:
                    score += FIELD_WEIGHTS[field]
                    matched.add(field)
        best = next((f for f in FIELD_WEIGHTS if f in matched), "description")
        source_text = candidate.source if best == "body" else candidate.description
        hits.append(
            SearchHit(
                name=candidate.name,
                title=candidate.title,
                description=candidate.description,
                category=candidate.category,
                tags=candidate.tags,
                version=candidate.version,
                score=score,
                snippet=_snippet(source_text, terms[0]),
                matched=[f for f in FIELD_WEIGHTS if f in matched],
            )
        )
    hits.sort(key=lambda h: (-h.score, h.name))
    return hits[:limit]
