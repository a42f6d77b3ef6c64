"""Periods as typed on the command line: one reading for token lifetimes and usage statistics."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pba_tunnel.errors import PeriodError
from pba_tunnel.periods import parse_period, whole_days


@pytest.mark.parametrize(
    ("text", "days"), [("7d", 7), ("2w", 14), ("12h", 1), ("36h", 2), ("90m", 1), ("45s", 1), ("3650d", 3650)]
)
def test_statistics_count_the_calendar_days_a_period_reaches(text: str, days: int) -> None:
    assert whole_days(parse_period(text)) == days


@pytest.mark.parametrize("text", ["36500d", "522w", "87601h", "999999999w"])
def test_a_period_beyond_ten_years_is_refused_with_the_maximum(text: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period(text)
    assert (caught.value.code, caught.value.message) == (
        "invalid_period",
        f"'{text}' is too long a period: at most 3650d (10 years)",
    )


def test_the_longest_period_is_accepted() -> None:
    assert parse_period("520w") == timedelta(weeks=520)
    assert parse_period("87600h") == timedelta(days=3650)
