"""An enhancement is bounded against a hostile provider, through the real openai provider on 127.0.0.1: one
deadline over every call, retry and wait; a capped response size; an answer carrying a YAML bomb is refused.
In every case nothing is saved and the failure is recorded."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from conftest import make_settings, template_source
from pba_tunnel.enhance import EnhanceFailure, EnhanceRequest, EnhanceResult, compare, enhance
from pba_tunnel.errors import EnhanceDeadlineError, EnhanceError, ProviderResponseTooLargeError
from pba_tunnel.providers import Provider, ProviderConfig, get_provider
from pba_tunnel.service import TemplateService
from pba_tunnel.startup import open_service
from providers.conftest import FakeServer, Reply

pytestmark = pytest.mark.anyio

DEADLINE = 2.0
ORIGINAL = template_source()
IMPROVED = template_source(description="Greets one person by name.", body="user:\nSay hello to {{ who }}.")
# Nine lists of nine aliases of the list before: 9^9 "lol"s once expanded, from a few hundred bytes.
BOMB = "".join(f"x{i}: &x{i} [{', '.join(['lol'] * 9 if i == 0 else [f'*x{i - 1}'] * 9)}]\n" for i in range(9))
BOMBED = IMPROVED.replace("---\n", f"---\n{BOMB}", 1)


def answer(text: str) -> dict[str, Any]:
    """An OpenAI chat completion answering ``text`` in a fenced block."""
    content = f"```markdown\n{text}```\n"
    return {"model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}


@pytest.fixture
async def service(home: Path) -> AsyncIterator[TemplateService]:
    settings = make_settings(home, seed=True, PBA_TUNNEL_ENHANCE_DEADLINE_SECONDS=str(DEADLINE))
    opened = await open_service(settings)
    try:
        await opened.create(ORIGINAL, name="greet")
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer()
    yield fake
    fake.close()


@asynccontextmanager
async def openai(server: FakeServer, **overrides: Any) -> AsyncIterator[Provider]:
    """The real openai provider; a long timeout so that only the enhancement's deadline can end a slow answer."""
    settings: dict[str, Any] = {"base_url": f"{server.url}/v1", "api_key": "sk-test", "timeout_seconds": 60.0}
    settings["max_retries"] = 0
    settings.update(overrides)
    provider = get_provider("openai", ProviderConfig(**settings))
    try:
        yield provider
    finally:
        await provider.aclose()


def events(home: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(home / "pba-tunnel.db") as connection:
        return connection.execute("SELECT template_name, attempts, saved, error FROM enhancement_events").fetchall()


async def assert_unchanged(service: TemplateService) -> None:
    assert [h.version for h in await service.history("greet")] == [1]
    assert (await service.get("greet")).source == ORIGINAL


async def test_a_trickling_server_ends_at_the_deadline(
    service: TemplateService, server: FakeServer, home: Path
) -> None:
    server.script(Reply(body=answer(IMPROVED), trickle=0.5))  # one byte every 0.5 s: no read ever times out
    async with openai(server) as provider:
        started = time.monotonic()
        with pytest.raises(EnhanceDeadlineError) as caught:
            await enhance(service, provider, EnhanceRequest(name="greet", save=True))
        elapsed = time.monotonic() - started
    error = caught.value
    assert (error.code, error.seconds) == ("enhance_deadline_exceeded", DEADLINE)
    assert isinstance(error, EnhanceError)
    assert error.message == (
        "enhancing 'greet' was stopped at its 2 s deadline (PBA_TUNNEL_ENHANCE_DEADLINE_SECONDS) after 0 finished "
        "model call(s); nothing was saved"
    )
    assert DEADLINE - 0.1 <= elapsed < DEADLINE + 1.0
    await assert_unchanged(service)
    assert events(home) == [("greet", 0, 0, "enhance_deadline_exceeded")]


@pytest.mark.parametrize(
    ("replies", "overrides"),
    [
        # Every attempt times out after 0.6 s; ten retries would take over 6 s.
        ([Reply(body=answer(IMPROVED), trickle=0.5)] * 11, {"timeout_seconds": 0.6, "max_retries": 10}),
        # The server asks for a 10 s wait, within max_backoff_seconds, so the provider would sleep it out.
        ([Reply(429, {}, {"Retry-After": "10"}), Reply(body=answer(IMPROVED))], {"max_retries": 1}),
    ],
    ids=["timeouts", "retry-after"],
)
async def test_retries_and_waits_do_not_run_past_the_deadline(
    service: TemplateService, server: FakeServer, replies: list[Reply], overrides: dict[str, Any]
) -> None:
    server.script(*replies)
    async with openai(server, backoff_seconds=0.01, **overrides) as provider:
        started = time.monotonic()
        with pytest.raises(EnhanceDeadlineError):
            await enhance(service, provider, EnhanceRequest(name="greet", save=True))
        elapsed = time.monotonic() - started
    assert DEADLINE - 0.1 <= elapsed < DEADLINE + 1.0
    assert 1 <= len(server.requests) <= 4
    await assert_unchanged(service)


async def test_a_huge_answer_fails_at_the_cap_and_is_not_sent_back(
    service: TemplateService, server: FakeServer, home: Path
) -> None:
    server.script(Reply(body=answer(IMPROVED + "x" * (5 * 1024 * 1024)), chunked=True))
    async with openai(server) as provider:
        started = time.monotonic()
        with pytest.raises(ProviderResponseTooLargeError) as caught:
            await enhance(service, provider, EnhanceRequest(name="greet", save=True))
        elapsed = time.monotonic() - started
    assert caught.value.code == "provider_response_too_large"
    assert elapsed < 2.0
    assert len(server.requests) == 1  # no retry carrying the answer back to the model
    await assert_unchanged(service)
    assert events(home) == [("greet", 0, 0, "provider_response_too_large")]


async def test_a_billion_laughs_answer_is_refused_and_nothing_is_saved(
    service: TemplateService, server: FakeServer, home: Path
) -> None:
    server.script(Reply(body=answer(BOMBED)), Reply(body=answer(BOMBED)))
    async with openai(server) as provider:
        started = time.monotonic()
        with pytest.raises(EnhanceError) as caught:
            await enhance(service, provider, EnhanceRequest(name="greet", save=True))
        elapsed = time.monotonic() - started
    assert caught.value.code == "enhance_failed"
    assert "with its aliases expanded" in caught.value.message
    assert elapsed < 2.0
    retry = server.requests[1].body["messages"][-1]["content"]
    assert "with its aliases expanded" in retry  # the model was told why
    await assert_unchanged(service)
    assert events(home) == [("greet", 2, 0, "enhance_failed")]


async def test_compare_reports_the_candidate_past_the_deadline_next_to_the_others(service: TemplateService) -> None:
    slow, fast = FakeServer(), FakeServer()
    try:
        slow.script(Reply(body=answer(IMPROVED), trickle=0.5))
        fast.script(Reply(body=answer(IMPROVED)))
        async with openai(slow) as late, openai(fast) as prompt:
            results = await compare(service, [(late, None), (prompt, None)], EnhanceRequest(name="greet"))
    finally:
        slow.close()
        fast.close()
    failure, result = results
    assert isinstance(failure, EnhanceFailure)
    assert failure.code == "enhance_deadline_exceeded"
    assert isinstance(result, EnhanceResult)
    assert result.source == IMPROVED
