"""Render times as a small histogram: log-spaced buckets that merge by adding, so days and groups combine.

Bucket ``i`` holds times up to ``FLOOR_MS * RATIO**i``; a percentile is read as its bucket's upper bound, so it
is at most ``RATIO`` (25%) above the true value and never below it. 80 buckets span 10 µs to about 5 minutes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping

FLOOR_MS = 0.01
RATIO = 1.25
BUCKETS = 80
_LOG_RATIO = math.log(RATIO)


def bucket(ms: float) -> int:
    """The bucket of one render time."""
    if ms <= FLOOR_MS:
        return 0
    return min(BUCKETS - 1, math.ceil(math.log(ms / FLOOR_MS) / _LOG_RATIO - 1e-9))


def upper_bound(index: int) -> float:
    """The longest time bucket ``index`` holds, in milliseconds."""
    return FLOOR_MS * RATIO**index


def merge(into: dict[int, int], other: Mapping[int, int]) -> None:
    """Add ``other``'s counts to ``into``."""
    for index, count in other.items():
        into[index] = into.get(index, 0) + count


def dumps(counts: Mapping[int, int]) -> str:
    """A histogram as stored (JSON object of non-empty buckets)."""
    return json.dumps({str(i): n for i, n in sorted(counts.items()) if n})


def loads(text: str | None) -> dict[int, int]:
    """A stored histogram."""
    return {int(i): int(n) for i, n in json.loads(text or "{}").items()}


def percentile(counts: Mapping[int, int], fraction: float) -> float:
    """The time under which ``fraction`` of the renders finished (its bucket's upper bound); 0 when empty."""
    total = sum(counts.values())
    if total == 0:
        return 0.0
    wanted = max(1, math.ceil(total * fraction))
    seen = 0
    for index in sorted(counts):
        seen += counts[index]
        if seen >= wanted:
            return round(upper_bound(index), 3)
    return round(upper_bound(max(counts)), 3)


def of(times: Iterable[float]) -> dict[int, int]:
    """The histogram of some render times."""
    counts: dict[int, int] = {}
    for ms in times:
        index = bucket(ms)
        counts[index] = counts.get(index, 0) + 1
    return counts
