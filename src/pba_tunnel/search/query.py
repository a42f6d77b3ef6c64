"""The search query language people expect, parsed without ever handing user text to FTS5 unescaped.

- plain words: all must match (``code review``);
- ``"quoted phrases"`` match words next to each other;
- ``revi*`` matches words starting with ``revi``;
- ``-draft`` excludes templates containing ``draft`` (a phrase can be excluded too: ``-"first draft"``);
- ``category:security`` and ``tag:sql`` filter (repeatable; tags must all be present); ``-category:X`` and
  ``-tag:X`` are refused with a QueryError rather than silently ignored (no exclusion filter exists);
- common English words ("for", "the", "with") are ignored unless they are all the query has.

An unclosed quote runs to the end of the query. A query that leaves nothing to look for (only exclusions,
only filters are fine) is a ``QueryError`` that says what to add.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import QueryError
from ..store.matching import MatchTerm, TextMatch, fts5_expression

__all__ = ["Query", "QueryError", "Term", "parse_query", "text_matches"]

_TOKEN = re.compile(r'(-?)(?:(category|tag):("[^"]*"?|\S*)|"([^"]*)"?|(\S+))', re.IGNORECASE)
_WORD_CHARS = re.compile(r"[\w]+", re.UNICODE)
MAX_TERMS = 32
# Words people type in sentences but that say nothing about a template; required, they would only make
# "tests for a python module" fail where "tests python module" matches. Kept inside "quoted phrases".
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "how",
        "i",
        "in",
        "into",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "please",
        "that",
        "the",
        "this",
        "to",
        "with",
        "you",
        "your",
        "want",
        "need",
    ]
)


@dataclass(frozen=True)
class Term:
    """A word, a prefix or a phrase, possibly excluded."""

    words: tuple[str, ...]
    prefix: bool = False
    excluded: bool = False

    def match_term(self) -> MatchTerm:
        """The term as the store takes it."""
        return MatchTerm(self.words, self.prefix)

    @property
    def text(self) -> str:
        """The words as typed (lower-cased)."""
        return " ".join(self.words)


@dataclass
class Query:
    """A parsed query."""

    terms: list[Term] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    @property
    def included(self) -> list[Term]:
        """Terms that must (or, in the fallback, may) match."""
        return [t for t in self.terms if not t.excluded]

    @property
    def excluded(self) -> list[Term]:
        """Terms that must not match."""
        return [t for t in self.terms if t.excluded]

    def text_match(self, *, any_word: bool = False) -> TextMatch:
        """Every included term (or any, in the fallback), minus the excluded, as the store takes them."""
        included = tuple(t.match_term() for t in self.included)
        return TextMatch(included, tuple(t.match_term() for t in self.excluded), any_word)

    def match_expression(self, *, any_word: bool = False) -> str:
        """The FTS5 MATCH expression of :meth:`text_match` (quoted, so no FTS5 syntax gets through)."""
        return fts5_expression(self.text_match(any_word=any_word))

    def plain_text(self) -> str:
        """The included words as one string, for fuzzy matching of names and titles."""
        return " ".join(t.text for t in self.included)


def _words(text: str) -> tuple[str, ...]:
    # FTS5's unicode61 tokenizer splits on everything but letters and digits; splitting the same way here
    # turns "code-review" into the phrase "code review" instead of an FTS5 syntax error.
    return tuple(w.lower() for w in _WORD_CHARS.findall(text.replace("_", " ")))


def parse_query(text: str) -> Query:
    """Parse a query; QueryError explains what to change when nothing is left to search for."""
    query = Query()
    for match in _TOKEN.finditer(text):
        negated, field_name, field_value, phrase, bare = match.groups()
        if field_name:
            value = field_value.strip('"').strip()
            if not value:
                raise QueryError(f"'{field_name.lower()}:' needs a value, e.g. {field_name.lower()}:security")
            if negated:
                kind = field_name.lower()
                raise QueryError(
                    f"'-{kind}:{value.lower()}' would exclude a {kind}, which search cannot do: leave it out, and "
                    f"narrow the search with {kind}:NAME or with -word for words the templates must not contain"
                )
            target = query.categories if field_name.lower() == "category" else query.tags
            target.append(value.lower())
            continue
        raw = phrase if phrase is not None else bare
        prefix = phrase is None and raw.endswith("*")
        words = _words(raw)
        if not words:
            continue  # punctuation only, e.g. a lone "-" or "*"
        query.terms.append(Term(words=words, prefix=prefix, excluded=bool(negated)))
    meaningful = [t for t in query.terms if t.excluded or t.prefix or len(t.words) > 1 or t.words[0] not in STOP_WORDS]
    if any(not t.excluded for t in meaningful):
        query.terms = meaningful
    if len(query.terms) > MAX_TERMS:
        raise QueryError(f"the query has {len(query.terms)} terms; use at most {MAX_TERMS}")
    if query.terms and not query.included:
        raise QueryError("a query of exclusions only matches nothing: add a word to look for, e.g. review -draft")
    if not query.terms and not (query.categories or query.tags):
        raise QueryError("the query is empty: type a few words, e.g. code review")
    return query


def _found(term: Term, words: tuple[str, ...]) -> bool:
    size = len(term.words)
    for start in range(len(words) - size + 1):
        window = words[start : start + size]
        last = window[-1]
        if window[:-1] == term.words[:-1] and (
            last.startswith(term.words[-1]) if term.prefix else last == term.words[-1]
        ):
            return True
    return False


def text_matches(query: Query, text: str, *, any_word: bool = False) -> bool:
    """Whether ``text`` holds every included term of ``query`` (any, with ``any_word``) and no excluded one, word
    for word: one template checked in memory, without the stemming a full-text index adds."""
    words = _words(text)
    found = [_found(term, words) for term in query.included]
    if found and not (any(found) if any_word else all(found)):
        return False
    return not any(_found(term, words) for term in query.excluded)
