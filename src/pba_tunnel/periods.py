"""Periods as people type them (``7d``, ``12h``, ``2w``): token lifetimes and the span of usage statistics."""

from __future__ import annotations

import math
import re
from datetime import timedelta

from .errors import PeriodError

PERIOD_PATTERN = re.compile(r"^\s*(\d{1,9})\s*([smhdw])\s*$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
LONGEST_DAYS = 3650  # ten years: longer is a typo, and dates beyond year 9999 cannot be written


def parse_period(text: str, *, noun: str = "period", longest_days: int = LONGEST_DAYS) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``2w`` or ``45s`` as a duration of at most ``longest_days`` days."""
    match = PERIOD_PATTERN.match(text)
    if match is None or int(match.group(1)) == 0:
        raise PeriodError(
            f"'{text}' is no {noun}: use a positive number and a unit (s, m, h, d, w), e.g. 30d, 12h, 90m, 2w",
            text=text,
            longest_days=longest_days,
        )
    count, unit = int(match.group(1)), UNITS[match.group(2)]
    longest = timedelta(days=longest_days)
    # Compared in the unit typed: timedelta itself overflows for the largest numbers the pattern admits.
    if count > longest / timedelta(**{unit: 1}):
        raise PeriodError(
            f"'{text}' is too long a {noun}: at most {longest_days}d ({longest_days // 365} years)",
            text=text,
            longest_days=longest_days,
        )
    return timedelta(**{unit: count})


def whole_days(period: timedelta) -> int:
    """How many calendar days a period touches counted back from today: ``12h`` is 1, ``36h`` is 2."""
    return max(1, math.ceil(period / timedelta(days=1)))
