"""Typo tolerance: when full text finds little, compare the query with every name and title (rapidfuzz)."""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass

SHORTLIST = 60  # candidates taken by the fast C scorer before rescoring word by word
SHORTLIST_SCORE = 45.0
MIN_SCORE = 70.0  # word similarity below this is chance resemblance (measured on starter + prompts.chat names)


# Names (NAME_PATTERN) and processed choices (words and spaces) never hold a line break.
SEPARATOR = "\n"
BATCH = 1000  # rows read at a time while the index is built: no string per row outlives its batch
CHUNK = 10_000  # choices compared per rapidfuzz call: a search makes at most this many strings at once


@dataclass(frozen=True)
class NameIndex:
    """Names and titles of every live prompt, for one store generation, in chunks of CHUNK prompts.

    A chunk's names are one string joined by line breaks (a name is cut out by its offset), its choices another,
    split one chunk at a time for a search. At 100,000 prompts that holds ~5 MB instead of ~16 MB of separate
    strings, and a search splits 10,000 choices at a time, not all of them.
    """

    generation: int
    names: tuple[str, ...]  # every chunk but the last holds exactly CHUNK names
    starts: array[int]  # where each name starts in its chunk's string of ``names``
    chunks: tuple[str, ...]  # "name title" as rapidfuzz's default processor leaves it (lower case, words only)

    def name(self, index: int) -> str:
        """The name at ``index`` (a line of its chunk's names)."""
        names = self.names[index // CHUNK]
        start = self.starts[index]
        end = names.find(SEPARATOR, start)
        return names[start:] if end < 0 else names[start:end]

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


def name_starts(names: str) -> array[int]:
    """Where each line of ``names`` starts."""
    starts = array("L", [0])  # "L": at least 32 bits on every platform
    find, index = names.find, names.find(SEPARATOR)
    while index >= 0:
        starts.append(index + 1)
        index = find(SEPARATOR, index + 1)
    return starts


class IndexBuilder:
    """Builds a :class:`NameIndex` from ``(name, title)`` rows added a batch at a time, in order.

    Each batch is joined at once and each chunk as soon as it is full, so the whole index is never held twice
    (once in parts, once joined): building it at 100,000 prompts needs about a chunk more than the index.
    """

    def __init__(self, generation: int) -> None:
        self.generation = generation
        self.names: list[str] = []
        self.chunks: list[str] = []
        self.starts = array("L")
        self.parts: list[tuple[str, str]] = []  # joined names and choices of the chunk being filled
        self.filled = 0  # rows in the chunk being filled

    def add(self, rows: Sequence[tuple[str, str | None]]) -> None:
        """Index ``rows`` after those added before."""
        done = 0
        while done < len(rows):
            part = rows[done : done + CHUNK - self.filled]
            names = SEPARATOR.join(name for name, _title in part)
            self.parts.append((names, SEPARATOR.join(choice_of(name, title) for name, title in part)))
            self.filled += len(part)
            done += len(part)
            if self.filled == CHUNK:
                self._close_chunk()

    def _close_chunk(self) -> None:
        if not self.parts:
            return
        names = SEPARATOR.join(names for names, _choices in self.parts)
        self.names.append(names)
        self.starts.extend(name_starts(names))
        self.chunks.append(SEPARATOR.join(choices for _names, choices in self.parts))
        self.parts.clear()
        self.filled = 0

    def index(self) -> NameIndex:
        """The index of every row added."""
        self._close_chunk()
        return NameIndex(self.generation, tuple(self.names), self.starts, tuple(self.chunks))


def build_index(generation: int, rows: Sequence[tuple[str, str | None]]) -> NameIndex:
    """A name index over ``(name, title)`` rows."""
    builder = IndexBuilder(generation)
    builder.add(rows)
    return builder.index()
