"""Side-by-side diffs: two sources as aligned rows of numbered lines, each marked same, changed, added or removed."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from itertools import zip_longest

MAX_DIFF_LINES = 20_000  # rows shown; sources are bounded (max_source_bytes) so this is rarely reached


@dataclass
class DiffRow:
    """One row: the old line (number and text) beside the new one; None where a side has no line."""

    kind: str  # same, changed, removed, added
    old_number: int | None
    old_text: str | None
    new_number: int | None
    new_text: str | None


def side_by_side(old: str, new: str) -> list[DiffRow]:
    """Rows aligning ``old`` and ``new`` line by line."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs = zip(range(i1, i2), range(j1, j2), strict=True)
            rows += [DiffRow("same", i + 1, old_lines[i], j + 1, new_lines[j]) for i, j in pairs]
            continue
        for i, j in zip_longest(range(i1, i2), range(j1, j2)):
            kind = "changed" if i is not None and j is not None else ("removed" if j is None else "added")
            rows.append(
                DiffRow(
                    kind,
                    None if i is None else i + 1,
                    None if i is None else old_lines[i],
                    None if j is None else j + 1,
                    None if j is None else new_lines[j],
                )
            )
        if len(rows) > MAX_DIFF_LINES:
            break
    return rows[:MAX_DIFF_LINES]


def changed(rows: list[DiffRow]) -> bool:
    """True when any row differs."""
    return any(row.kind != "same" for row in rows)
