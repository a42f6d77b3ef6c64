"""Side-by-side diff rows: what the history and conflict pages show, line by line."""

from __future__ import annotations

from pba_tunnel.web.diffs import DiffRow, changed, side_by_side


def test_rows_pair_changed_lines_and_leave_a_gap_for_added_and_removed_ones() -> None:
    rows = side_by_side("a\nb\nc\nd\n", "a\nB\nc\nnew\n")
    assert rows == [
        DiffRow("same", 1, "a", 1, "a"),
        DiffRow("changed", 2, "b", 2, "B"),
        DiffRow("same", 3, "c", 3, "c"),
        DiffRow("changed", 4, "d", 4, "new"),
    ]
    grown = side_by_side("a\n", "a\nb\nc\n")
    assert grown[1:] == [DiffRow("added", None, None, 2, "b"), DiffRow("added", None, None, 3, "c")]
    shrunk = side_by_side("a\nb\n", "b\n")
    assert shrunk == [DiffRow("removed", 1, "a", None, None), DiffRow("same", 2, "b", 1, "b")]


def test_identical_sources_have_no_change() -> None:
    assert not changed(side_by_side("x\ny", "x\ny"))
    assert changed(side_by_side("x", "y"))
