"""The openai, anthropic and ollama providers against a local server speaking each one's wire format.

Each test goes through the real registry (entry points) and a real HTTP exchange on 127.0.0.1; the server
records every request so the tests can check what was sent and how often.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from pba_tunnel.errors import ProviderError, ProviderNotConfiguredError
from pba_tunnel.providers import ChatMessage, CompletionOptions, Provider, ProviderConfig, get_provider

from .conftest import FakeServer, Recorded, Reply

OPENAI_KEY = "sk-test-openai-9f3Kq2LxV7"
ANTHROPIC_KEY = "sk-ant-test-4RtY8uPz1M"

MESSAGES = [
    ChatMessage(role="system", content="You are terse."),
    ChatMessage(role="user", content="Say hi."),
]


@dataclass(frozen=True)
class Wire:
    """What one provider's API looks like on the wire."""

    name: str
    key: str | None
    base_suffix: str  # what the user puts after host:port in the base URL
    path: str  # where the request must land
    success: Callable[[str, str], dict[str, Any]]  # (text, model) -> response body


WIRES = [
    Wire(
        "openai",
        OPENAI_KEY,
        "/v1",
        "/v1/chat/completions",
        lambda text, model: {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
        },
    ),
    Wire(
        "anthropic",
        ANTHROPIC_KEY,
        "",
        "/v1/messages",
        lambda text, model: {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 12, "output_tokens": 3},
        },
    ),
    Wire(
        "ollama",
        None,
        "",
        "/api/chat",
        lambda text, model: {
            "model": model,
            "created_at": "2026-01-01T00:00:00Z",
            "message": {"role": "assistant", "content": text},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 12,
            "eval_count": 3,
        },
    ),
]
BY_NAME = {wire.name: wire for wire in WIRES}
wires = pytest.mark.parametrize("wire", WIRES, ids=[wire.name for wire in WIRES])


def config_for(wire: Wire, server: FakeServer, **overrides: Any) -> ProviderConfig:
    """Tiny backoff and a short timeout so retries cost milliseconds."""
    settings: dict[str, Any] = {
        "base_url": server.url + wire.base_suffix,
        "api_key": wire.key,
        "timeout_seconds": 2.0,
        "max_retries": 2,
        "backoff_seconds": 0.01,
        "max_backoff_seconds": 5.0,
    }
    settings.update(overrides)
    return ProviderConfig(**settings)


@asynccontextmanager
async def provider(wire: Wire, server: FakeServer, **overrides: Any) -> AsyncIterator[Provider]:
    instance = get_provider(wire.name, config_for(wire, server, **overrides))
    try:
        yield instance
    finally:
        await instance.aclose()


def assert_no_key(wire: Wire, *texts: str) -> None:
    if wire.key:
        for text in texts:
            assert wire.key not in text


def assert_auth(wire: Wire, request: Recorded) -> None:
    if wire.name == "openai":
        assert request.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    elif wire.name == "anthropic":
        assert request.headers["x-api-key"] == ANTHROPIC_KEY
        assert request.headers["anthropic-version"] == "2023-06-01"
        assert "authorization" not in request.headers
    else:
        assert "authorization" not in request.headers
        assert "x-api-key" not in request.headers


@wires
@pytest.mark.anyio
async def test_success_returns_text_usage_and_latency(wire: Wire, server: FakeServer, logs: Callable[[], str]) -> None:
    server.script(Reply(body=wire.success("Hi.", "model-x")))
    async with provider(wire, server) as llm:
        answer = await llm.complete(MESSAGES, "model-x", CompletionOptions(max_tokens=50, temperature=0.2))
    assert (answer.text, answer.model, answer.provider) == ("Hi.", "model-x", wire.name)
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (12, 3)
    assert answer.latency_ms > 0
    [request] = server.requests
    assert request.path == wire.path
    assert request.headers["content-type"] == "application/json"
    assert_auth(wire, request)
    assert request.body["model"] == "model-x"
    assert_no_key(wire, logs())


@pytest.mark.anyio
async def test_openai_request_body(server: FakeServer) -> None:
    wire = BY_NAME["openai"]
    server.script(Reply(body=wire.success("ok", "gpt-4o-mini")))
    async with provider(wire, server) as llm:
        assert llm.default_model == "gpt-4o-mini"
        await llm.complete(MESSAGES, options=CompletionOptions(max_tokens=64, top_p=0.9, stop=["END"]))
    assert server.requests[0].body == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hi."}],
        "max_tokens": 64,
        "top_p": 0.9,
        "stop": ["END"],
    }


@pytest.mark.anyio
async def test_anthropic_request_body_moves_system_messages_to_the_system_field(server: FakeServer) -> None:
    wire = BY_NAME["anthropic"]
    server.script(Reply(body=wire.success("ok", "claude-sonnet-4-5")))
    messages = [*MESSAGES, ChatMessage(role="system", content="No emoji.")]
    async with provider(wire, server, default_model="claude-test") as llm:
        await llm.complete(messages, options=CompletionOptions(max_tokens=64, temperature=0.5, stop=["END"]))
    assert server.requests[0].body == {
        "model": "claude-test",
        "max_tokens": 64,
        "system": "You are terse.\n\nNo emoji.",
        "messages": [{"role": "user", "content": "Say hi."}],
        "temperature": 0.5,
        "stop_sequences": ["END"],
    }


@pytest.mark.anyio
async def test_ollama_request_body_is_non_streaming_with_options(server: FakeServer) -> None:
    wire = BY_NAME["ollama"]
    server.script(Reply(body=wire.success("ok", "llama3.2")))
    async with provider(wire, server) as llm:
        await llm.complete(MESSAGES, options=CompletionOptions(max_tokens=64, temperature=0.1, top_p=0.8, stop=["X"]))
    assert server.requests[0].body == {
        "model": "llama3.2",
        "messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hi."}],
        "stream": False,
        "options": {"num_predict": 64, "temperature": 0.1, "top_p": 0.8, "stop": ["X"]},
    }


@wires
@pytest.mark.anyio
async def test_429_honours_retry_after_then_succeeds(wire: Wire, server: FakeServer, logs: Callable[[], str]) -> None:
    server.script(
        Reply(429, {"error": {"message": f"slow down, {wire.key}"}}, {"Retry-After": "1"}),
        Reply(body=wire.success("late", "m")),
    )
    async with provider(wire, server) as llm:
        started = time.monotonic()
        answer = await llm.complete(MESSAGES, "m")
        waited = time.monotonic() - started
    assert answer.text == "late"
    assert len(server.requests) == 2
    assert waited >= 0.9  # the server's Retry-After, not the 10 ms backoff
    captured = logs()
    assert "provider retry" in captured  # the capture does see our logs...
    assert_no_key(wire, captured)  # ...and the key the server echoed is not among them


@pytest.mark.anyio
async def test_retry_after_as_an_http_date(server: FakeServer) -> None:
    wire = BY_NAME["openai"]
    past = format_datetime(datetime.now(UTC) - timedelta(seconds=5), usegmt=True)
    server.script(Reply(429, {}, {"Retry-After": past}), Reply(body=wire.success("ok", "m")))
    async with provider(wire, server) as llm:
        assert (await llm.complete(MESSAGES)).text == "ok"
    assert len(server.requests) == 2


@pytest.mark.anyio
async def test_retry_after_beyond_the_cap_fails_at_once(server: FakeServer) -> None:
    wire = BY_NAME["openai"]
    server.script(Reply(429, {"error": {"message": "quota"}}, {"Retry-After": "120"}))
    async with provider(wire, server) as llm:
        with pytest.raises(ProviderError) as caught:
            await llm.complete(MESSAGES)
    assert len(server.requests) == 1
    assert "HTTP 429" in caught.value.message
    assert "wait 120 s" in caught.value.message


@wires
@pytest.mark.anyio
async def test_500_is_retried_then_succeeds(wire: Wire, server: FakeServer, logs: Callable[[], str]) -> None:
    server.script(Reply(500, {"error": "boom"}), Reply(503, b"busy"), Reply(body=wire.success("ok", "m")))
    async with provider(wire, server) as llm:
        assert (await llm.complete(MESSAGES, "m")).text == "ok"
    assert len(server.requests) == 3
    assert_no_key(wire, logs())


@wires
@pytest.mark.anyio
async def test_5xx_until_retries_run_out(wire: Wire, server: FakeServer) -> None:
    server.script(*[Reply(502, {"error": {"message": f"bad gateway {wire.key}"}})] * 3)
    async with provider(wire, server) as llm:
        with pytest.raises(ProviderError) as caught:
            await llm.complete(MESSAGES)
    assert len(server.requests) == 3
    assert "HTTP 502" in caught.value.message
    assert "gave up after 3 attempts" in caught.value.message
    assert_no_key(wire, caught.value.message, str(caught.value))


@wires
@pytest.mark.anyio
async def test_timeout_is_retried_then_named(wire: Wire, server: FakeServer, logs: Callable[[], str]) -> None:
    server.script(
        Reply(body=wire.success("too late", "m"), delay=1.0), Reply(body=wire.success("too late", "m"), delay=1.0)
    )
    async with provider(wire, server, timeout_seconds=0.2, max_retries=1) as llm:
        with pytest.raises(ProviderError) as caught:
            await llm.complete(MESSAGES)
    assert len(server.requests) == 2
    assert f"{wire.name} timed out after 0.2 s" in caught.value.message
    assert "PBA_TUNNEL_PROVIDER_TIMEOUT" in caught.value.message
    assert_no_key(wire, caught.value.message, logs())


@wires
@pytest.mark.anyio
async def test_invalid_json_is_a_malformed_response(wire: Wire, server: FakeServer) -> None:
    server.script(Reply(body=b"{not json"))
    async with provider(wire, server) as llm:
        with pytest.raises(ProviderError) as caught:
            await llm.complete(MESSAGES)
    assert "malformed response" in caught.value.message
    assert len(server.requests) == 1  # a broken answer is not a transient failure


@wires
@pytest.mark.anyio
async def test_json_of_the_wrong_shape_is_a_malformed_response(wire: Wire, server: FakeServer) -> None:
    server.script(Reply(body={"unexpected": True}))
    async with provider(wire, server) as llm:
        with pytest.raises(ProviderError) as caught:
            await llm.complete(MESSAGES)
    assert caught.value.message.startswith(f"{wire.name} returned a malformed response")


@wires
@pytest.mark.anyio
async def test_401_is_not_retried_and_says_to_check_the_key(
    wire: Wire, server: FakeServer, logs: Callable[[], str]
) -> None:
    server.script(Reply(401, {"error": {"message": f"Incorrect API key provided: {wire.key}"}}))
    async with provider(wire, server) as llm:
        with pytest.raises(ProviderError) as caught:
            await llm.complete(MESSAGES)
    assert len(server.requests) == 1
    assert "HTTP 401" in caught.value.message
    expected = {"openai": "check OPENAI_API_KEY", "anthropic": "check ANTHROPIC_API_KEY", "ollama": "OLLAMA_HOST"}
    assert expected[wire.name] in caught.value.message
    assert_no_key(wire, caught.value.message, logs())


@wires
@pytest.mark.anyio
async def test_other_4xx_shows_the_server_message_without_the_key(wire: Wire, server: FakeServer) -> None:
    server.script(Reply(400, {"error": {"message": f"model 'nope' does not exist (key {wire.key})"}}))
    async with provider(wire, server) as llm:
        with pytest.raises(ProviderError) as caught:
            await llm.complete(MESSAGES, "nope")
    assert len(server.requests) == 1
    assert "HTTP 400" in caught.value.message
    assert "model 'nope' does not exist" in caught.value.message
    assert_no_key(wire, caught.value.message)


@pytest.mark.anyio
async def test_openai_compatible_server_without_a_key_sends_no_authorization(server: FakeServer) -> None:
    wire = BY_NAME["openai"]
    server.script(Reply(body=wire.success("local", "qwen")))
    async with provider(wire, server, api_key=None) as llm:
        assert (await llm.complete(MESSAGES, "qwen")).text == "local"
    assert "authorization" not in server.requests[0].headers


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("openai", "set OPENAI_API_KEY (or OPENAI_BASE_URL for a local server that needs no key)"),
        ("anthropic", "set ANTHROPIC_API_KEY"),
    ],
)
def test_unconfigured_provider_says_how_to_configure_it(name: str, hint: str) -> None:
    with pytest.raises(ProviderNotConfiguredError) as caught:
        get_provider(name, ProviderConfig())
    assert (caught.value.code, caught.value.provider) == ("provider_not_configured", name)
    assert hint in caught.value.message
    assert "--provider" not in caught.value.message  # the CLI words its own remedy


@pytest.mark.anyio
async def test_unreachable_ollama_says_to_start_it(server: FakeServer) -> None:
    url = server.url
    server.close()  # nothing listens on this port any more
    llm = get_provider("ollama", ProviderConfig(base_url=url, max_retries=1, backoff_seconds=0.01))
    try:
        with pytest.raises(ProviderError) as caught:
            await llm.complete(MESSAGES)
    finally:
        await llm.aclose()
    assert f"ollama could not reach {url}" in caught.value.message
    assert "ollama serve" in caught.value.message


@pytest.mark.anyio
async def test_one_pooled_client_per_provider_reuses_the_connection(server: FakeServer) -> None:
    wire = BY_NAME["ollama"]
    server.script(Reply(body=wire.success("a", "m")), Reply(body=wire.success("b", "m")))
    async with provider(wire, server) as llm:
        assert [(await llm.complete(MESSAGES)).text for _ in range(2)] == ["a", "b"]
    # Keep-alive: both requests arrived over one connection, so the handler saw the same client port.
    assert server.requests[0].client_port == server.requests[1].client_port


@pytest.mark.anyio
async def test_a_closed_provider_says_so(server: FakeServer) -> None:
    async with provider(BY_NAME["ollama"], server) as llm:
        pass
    with pytest.raises(ProviderError, match="ollama provider is closed"):
        await llm.complete(MESSAGES)
    assert server.requests == []
