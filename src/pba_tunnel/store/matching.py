"""A parsed full-text query as the store receives it, and its two spellings: FTS5 and PostgreSQL tsquery.

Search parses what people type into words, phrases and prefixes (``search/query.py``); the store turns that
structure into its database's syntax here. Every word is quoted in both spellings, so no user text is ever read
as query syntax.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MatchTerm:
    """Words that must appear next to each other (one word: a plain word); ``prefix``: the last one starts a word."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class TextMatch:
    """Every included term (or any of them, with ``any_word``), and none of the excluded ones."""

    included: tuple[MatchTerm, ...]
    excluded: tuple[MatchTerm, ...] = ()
    any_word: bool = False


def _fts5_term(term: MatchTerm) -> str:
    quoted = '"' + " ".join(term.words).replace('"', '""') + '"'
    return f"{quoted} *" if term.prefix else quoted


def fts5_expression(match: TextMatch) -> str:
    """The FTS5 MATCH expression: quoted phrases joined by AND (OR with ``any_word``), then NOT the excluded."""
    joiner = " OR " if match.any_word else " AND "
    expression = joiner.join(_fts5_term(t) for t in match.included)
    if match.any_word and len(match.included) > 1:
        expression = f"({expression})"
    for term in match.excluded:
        expression += f" NOT {_fts5_term(term)}"
    return expression


def _lexeme(word: str) -> str:
    # A quoted tsquery lexeme: quote and backslash are the only characters with a meaning inside the quotes.
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _tsquery_term(term: MatchTerm) -> str:
    lexemes = [_lexeme(w) for w in term.words]
    if term.prefix:
        lexemes[-1] += ":*"
    joined = " <-> ".join(lexemes)
    return f"({joined})" if len(lexemes) > 1 else joined


def tsquery_text(match: TextMatch) -> str:
    """The text for ``to_tsquery``: quoted lexemes, ``<->`` within phrases, ``&`` (``|``) between terms, ``& !``."""
    joiner = " | " if match.any_word else " & "
    expression = joiner.join(_tsquery_term(t) for t in match.included)
    if match.excluded:
        expression = f"({expression})" + "".join(f" & !{_tsquery_term(t)}" for t in match.excluded)
    return expression
