"""Typo tolerance: when full text finds little, compare the query with every name and title (rapidfuzz)."""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass

SHORTLIST = 60  # candidates taken by the fast C scorer before rescoring word by word
SHORTLIST_SCORE = 45.0
MIN_SCORE = 70.0  # word similarity below this is chance resemblance (measured on starter + prompts.chat names)


# Names (NAME_PATTERN) and processed choices (words and spaces) never hold a line break.
SEPARATOR = "\n"


@dataclass(frozen=True)
class NameIndex:
    """Names and titles of every live prompt, for one store generation.

    Names and choices are each one string joined by line breaks (the choices are split for a search, names
    are cut out by offset): at 100,000 prompts that holds ~4 MB instead of ~16 MB of separate strings.
    """

    generation: int
    names: str
    choices: str  # "name title" as rapidfuzz's default processor leaves it (lower case, words only)
    starts: array[int]  # where each name starts in ``names``

    def name(self, index: int) -> str:
        """The name at ``index`` (the line of ``names`` after the ``index``-th line break)."""
        start = self.starts[index]
        end = self.names.find(SEPARATOR, start)
        return self.names[start:] if end < 0 else self.names[start:end]

    def closest(self, text: str, limit: int, exclude: set[str]) -> list[tuple[str, float]]:
        """Names whose name or title looks like ``text``, best first, with a 0-100 similarity."""
        from rapidfuzz import fuzz, process, utils  # here: most searches find enough by full text alone

        processed = utils.default_process(text)
        words = processed.split()
        if not words or not self.names:
            return []
        choices = self.choices.split(SEPARATOR)
        shortlist = process.extract(  # the choices were processed once, when the index was built
            processed,
            choices,
            scorer=fuzz.token_set_ratio,
            limit=SHORTLIST + len(exclude),
            score_cutoff=SHORTLIST_SCORE,
        )
        scored = []
        for _choice, _score, index in shortlist:
            name = self.name(index)
            if name in exclude:
                continue
            similarity = word_similarity(words, choices[index].split())
            if similarity >= MIN_SCORE:
                scored.append((name, similarity))
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


def joined_names(rows: Iterable[tuple[str, str | None]]) -> tuple[str, str]:
    """The names and the choices of ``(name, title)`` rows, each column joined into one string."""
    rows = list(rows)
    names = SEPARATOR.join(name for name, _title in rows)
    return names, SEPARATOR.join(choice_of(name, title) for name, title in rows)


def name_starts(names: str) -> array[int]:
    """Where each line of ``names`` starts."""
    starts = array("L", [0])  # "L": at least 32 bits on every platform
    find, index = names.find, names.find(SEPARATOR)
    while index >= 0:
        starts.append(index + 1)
        index = find(SEPARATOR, index + 1)
    return starts


def make_index(generation: int, names: str, choices: str) -> NameIndex:
    """A name index over joined names and choices."""
    return NameIndex(generation, names, choices, name_starts(names))


def build_index(generation: int, rows: list[tuple[str, str | None]]) -> NameIndex:
    """A name index over ``(name, title)`` rows."""
    return make_index(generation, *joined_names(rows))
