"""Typo tolerance: when full text finds little, compare the query with every name and title (rapidfuzz)."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

MIN_SCORE = 62.0  # below this, WRatio pairs look alike by chance (measured on the starter + prompts.chat names)


@dataclass(frozen=True)
class NameIndex:
    """Names and titles of every live prompt, for one store generation."""

    generation: int
    names: list[str]
    choices: list[str]  # "name title", lower-cased, hyphens as spaces

    def closest(self, text: str, limit: int, exclude: set[str]) -> list[tuple[str, float]]:
        """Names whose name or title looks like ``text``, best first, with a 0-100 similarity."""
        found = process.extract(
            text,
            self.choices,
            scorer=fuzz.WRatio,
            processor=utils.default_process,
            limit=limit + len(exclude),
            score_cutoff=MIN_SCORE,
        )
        return [(self.names[index], score) for _choice, score, index in found if self.names[index] not in exclude][
            :limit
        ]


def build_index(generation: int, rows: list[tuple[str, str | None]]) -> NameIndex:
    """A name index over ``(name, title)`` rows."""
    names = [name for name, _title in rows]
    choices = [f"{name.replace('-', ' ').replace('_', ' ')} {title or ''}".strip() for name, title in rows]
    return NameIndex(generation, names, choices)
