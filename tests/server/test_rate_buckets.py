"""The token buckets behind the HTTP rate limits, in process: burst, refill, separate kinds, workers' shares."""

from __future__ import annotations

import time

import pytest

from pba_tunnel.config import load_settings
from pba_tunnel.errors import ConfigError
from pba_tunnel.server.rate_limit import Limit, RateLimiter, costly_kind


def test_a_burst_is_served_then_the_wait_is_one_refill() -> None:
    limiter = RateLimiter({"renders": Limit(rate=2, burst=3)})
    assert [limiter.charge("a", "renders") for _ in range(3)] == [None, None, None]
    refused = limiter.charge("a", "renders")
    assert refused is not None
    kind, wait = refused
    assert kind == "renders"
    assert 0.4 < wait <= 0.5  # two a second
    assert limiter.charge("b", "renders") is None  # another client has its own bucket


def test_a_refused_charge_takes_nothing_from_the_other_bucket() -> None:
    limiter = RateLimiter({"requests": Limit(100, 5), "renders": Limit(1, 1)})
    assert limiter.charge("a", "requests", "renders") is None
    assert limiter.charge("a", "requests", "renders") == ("renders", pytest.approx(1, abs=0.05))
    assert [limiter.charge("a", "requests") for _ in range(4)] == [None] * 4  # 5 - 1: the refused one was free


def test_a_zero_rate_is_no_limit_and_workers_share_the_limit() -> None:
    assert all(RateLimiter({"renders": Limit(0, 1)}).charge("a", "renders") is None for _ in range(1000))
    shared = RateLimiter({"renders": Limit(rate=4, burst=10)}, processes=4)
    assert shared.limits["renders"] == (1.0, 2.0)  # a quarter each: four workers never exceed the limit together


def test_the_least_recent_client_is_forgotten_beyond_the_bound() -> None:
    limiter = RateLimiter({"requests": Limit(0.001, 1)}, max_clients=2)
    for client in ("a", "b", "c"):
        assert limiter.charge(client, "requests") is None
    assert limiter.charge("c", "requests") is not None
    assert limiter.charge("a", "requests") is None  # "a" was dropped for "c": a fresh bucket


def test_refill_follows_the_clock() -> None:
    limiter = RateLimiter({"requests": Limit(50, 1)})
    assert limiter.charge("a", "requests") is None
    time.sleep(0.03)
    assert limiter.charge("a", "requests") is None


@pytest.mark.parametrize(
    ("method", "params", "kind"),
    [
        ("prompts/get", {"name": "greet"}, "renders"),
        ("tools/call", {"name": "render_template"}, "renders"),
        ("tools/call", {"name": "enhance_template"}, "enhancements"),
        ("tools/call", {"name": "enhance_template", "requestState": "x"}, None),
        ("tools/call", {"name": "search_templates"}, None),
        ("prompts/list", None, None),
    ],
)
def test_which_requests_draw_from_the_render_and_enhancement_buckets(
    method: str, params: dict[str, str] | None, kind: str | None
) -> None:
    assert costly_kind(method, params) == kind


def test_rate_settings() -> None:
    settings = load_settings({"PBA_TUNNEL_RATE_RENDERS": "0.5", "PBA_TUNNEL_RATE_RENDERS_BURST": "7"})
    assert (settings.rate_renders, settings.rate_renders_burst, settings.rate_requests) == (0.5, 7, 50.0)
    with pytest.raises(ConfigError, match="PBA_TUNNEL_RATE_REQUESTS must be a number of requests per second"):
        load_settings({"PBA_TUNNEL_RATE_REQUESTS": "-1"})
    with pytest.raises(ConfigError, match="PBA_TUNNEL_RATE_ENHANCEMENTS_BURST must be positive"):
        load_settings({"PBA_TUNNEL_RATE_ENHANCEMENTS_BURST": "0"})
