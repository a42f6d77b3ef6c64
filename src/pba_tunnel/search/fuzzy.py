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
BATCH = 1000  # rows joined at a time while the index is built: no string per row outlives its batch
CHUNK = 10_000  # choices compared per rapidfuzz call: a search makes at most this many strings at once


@dataclass(frozen=True)
class NameIndex:
    """Names and titles of every live prompt, for one store generation.

    Names are one string joined by line breaks (a name is cut out by its offset); choices are a few such strings
    of up to CHUNK choices each, split one at a time for a search. At 100,000 prompts that holds ~4 MB instead
    of ~16 MB of separate strings, and a search splits 10,000 choices at a time, not all of them.
    """

    generation: int
    names: str
    starts: array[int]  # where each name starts in ``names``
    chunks: tuple[str, ...]  # "name title" as rapidfuzz's default processor leaves it (lower case, words only)

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
        shortlist: list[tuple[float, int, str]] = []
        offset = 0
        for chunk in self.chunks:
            choices = chunk.split(SEPARATOR)
            found = process.extract(  # the choices were processed once, when the index was built
                processed,
                choices,
                scorer=fuzz.token_set_ratio,
                limit=SHORTLIST + len(exclude),
                score_cutoff=SHORTLIST_SCORE,
            )
            shortlist += [(score, offset + index, choice) for choice, score, index in found]
            offset += len(choices)
        shortlist.sort(key=lambda found: (-found[0], found[1]))  # as one extract over every choice orders them
        scored = []
        for _score, index, choice in shortlist[: SHORTLIST + len(exclude)]:
            name = self.name(index)
            if name in exclude:
                continue
            similarity = word_similarity(words, choice.split())
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


def make_index(generation: int, names: list[str], choices: list[str]) -> NameIndex:
    """A name index over batches of joined names and choices of BATCH rows each (the last may hold fewer)."""
    joined = SEPARATOR.join(names)
    step = CHUNK // BATCH
    chunks = tuple(SEPARATOR.join(choices[start : start + step]) for start in range(0, len(choices), step))
    return NameIndex(generation, joined, name_starts(joined), chunks)


def build_index(generation: int, rows: list[tuple[str, str | None]]) -> NameIndex:
    """A name index over ``(name, title)`` rows."""
    names, choices = [], []
    for start in range(0, len(rows), BATCH):
        names_part, choices_part = joined_names(rows[start : start + BATCH])
        names.append(names_part)
        choices.append(choices_part)
    return make_index(generation, names, choices)
