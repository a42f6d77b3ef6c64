"""Typo tolerance: when full text finds little, compare the query with every name and title (rapidfuzz)."""

from __future__ import annotations

from dataclasses import dataclass

SHORTLIST = 60  # candidates taken by the fast C scorer before rescoring word by word
SHORTLIST_SCORE = 45.0
MIN_SCORE = 70.0  # word similarity below this is chance resemblance (measured on starter + prompts.chat names)


@dataclass(frozen=True)
class NameIndex:
    """Names and titles of every live prompt, for one store generation."""

    generation: int
    names: list[str]
    choices: list[str]  # "name title" as rapidfuzz's default processor leaves it (lower case, words only)

    def closest(self, text: str, limit: int, exclude: set[str]) -> list[tuple[str, float]]:
        """Names whose name or title looks like ``text``, best first, with a 0-100 similarity."""
        from rapidfuzz import fuzz, process, utils  # here: most searches find enough by full text alone

        processed = utils.default_process(text)
        words = processed.split()
        if not words:
            return []
        shortlist = process.extract(  # the choices were processed once, when the index was built
            processed,
            self.choices,
            scorer=fuzz.token_set_ratio,
            limit=SHORTLIST + len(exclude),
            score_cutoff=SHORTLIST_SCORE,
        )
        scored = []
        for _choice, _score, index in shortlist:
            if self.names[index] in exclude:
                continue
            similarity = word_similarity(words, self.choices[index].split())
            if similarity >= MIN_SCORE:
                scored.append((self.names[index], similarity))
        scored.sort(key=lambda pair: (-pair[1], pair[0]))
        return scored[:limit]


def word_similarity(query_words: list[str], label_words: list[str]) -> float:
    """How well each query word matches its closest word of the label, averaged (0-100).

    "reveiw code" against "code review" scores 92, against "manim code" 65: a typo in one word still
    finds the template, a shared common word alone does not.
    """
    from rapidfuzz import fuzz

    if not label_words:
        return 0.0
    return sum(max(fuzz.ratio(q, w) for w in label_words) for q in query_words) / len(query_words)


def choice_of(name: str, title: str | None) -> str:
    """What the index compares a query with for one prompt."""
    from rapidfuzz import utils

    processed: str = utils.default_process(f"{name} {title or ''}")
    return processed


def build_index(generation: int, rows: list[tuple[str, str | None]]) -> NameIndex:
    """A name index over ``(name, title)`` rows."""
    return NameIndex(generation, [name for name, _title in rows], [choice_of(name, title) for name, title in rows])
