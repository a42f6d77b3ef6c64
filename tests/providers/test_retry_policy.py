"""The pure parts of the retry policy: Retry-After parsing, capped backoff with jitter, redaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pba_tunnel.providers import ProviderConfig
from pba_tunnel.providers.http import backoff_delay, redact, retry_after_seconds

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        (" 1.5 ", 1.5),
        ("-4", 0.0),
        ("Thu, 01 Jan 2026 12:00:30 GMT", 30.0),
        ("Thu, 01 Jan 2026 11:59:00 GMT", 0.0),  # already past: go now
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_seconds_reads_delta_seconds_and_http_dates(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header, NOW) == seconds


def test_backoff_grows_exponentially_up_to_the_cap_with_jitter() -> None:
    config = ProviderConfig(backoff_seconds=1.0, max_backoff_seconds=5.0)
    for attempt, full in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 5.0), (8, 5.0)]:
        delays = {backoff_delay(attempt, config) for _ in range(50)}
        assert all(full / 2 <= delay <= full for delay in delays)
        assert len(delays) > 1  # jittered, so a crowd of clients does not retry in step


def test_redact_hides_every_occurrence_and_tolerates_no_secret() -> None:
    assert redact("key sk-1 and sk-1 again", "sk-1") == "key *** and *** again"
    assert redact("nothing to hide", None) == "nothing to hide"
    assert redact("nothing to hide", "") == "nothing to hide"
