"""Every provider request is bounded: a response larger than ``max_response_bytes`` is refused while it streams
in, and ``timeout_seconds`` is the total time of one request, so a server trickling bytes cannot stall it."""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path

import pytest

from pba_tunnel.errors import ProviderError, ProviderResponseTooLargeError
from pba_tunnel.providers.settings import provider_config

from .conftest import FakeServer, Reply
from .test_http_providers import BY_NAME, MESSAGES, WIRES, Wire, assert_no_key, provider, wires

pytestmark = pytest.mark.anyio

MIB = 1024 * 1024


def huge_answer(wire: Wire, size: int) -> bytes:
    """A well-formed answer of the wire's shape whose text makes the body ``size`` bytes or more."""
    return json.dumps(wire.success("x" * size, "m")).encode()


@wires
async def test_a_declared_size_over_the_cap_is_refused_before_reading(wire: Wire, server: FakeServer) -> None:
    server.script(Reply(body=huge_answer(wire, 5 * MIB)))
    async with provider(wire, server) as llm:
        started = time.monotonic()
        with pytest.raises(ProviderResponseTooLargeError) as caught:
            await llm.complete(MESSAGES)
        elapsed = time.monotonic() - started
    error = caught.value
    assert (error.code, error.provider, error.limit) == ("provider_response_too_large", wire.name, MIB)
    assert isinstance(error, ProviderError)
    assert f"than the {MIB} byte limit" in error.message
    assert "PBA_TUNNEL_PROVIDER_MAX_RESPONSE_BYTES" in error.message
    assert "max_response_bytes in providers.toml" in error.message
    assert len(server.requests) == 1  # not retried: the next answer would be as large
    assert elapsed < 1.0
    assert_no_key(wire, error.message)


@wires
async def test_a_streamed_body_over_the_cap_stops_with_bounded_memory(wire: Wire, server: FakeServer) -> None:
    server.script(Reply(body=huge_answer(wire, 5 * MIB), chunked=True))  # no Content-Length to go by
    async with provider(wire, server) as llm:
        tracemalloc.start()
        started = time.monotonic()
        try:
            with pytest.raises(ProviderResponseTooLargeError) as caught:
                await llm.complete(MESSAGES)
            elapsed = time.monotonic() - started
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert caught.value.code == "provider_response_too_large"
    assert "sent more than the 1048576 byte limit" in caught.value.message
    assert len(server.requests) == 1
    assert elapsed < 2.0
    assert peak < 3 * MIB  # the cap and a chunk or two, not the 5 MiB the server sent


async def test_the_cap_is_a_setting(server: FakeServer) -> None:
    wire = BY_NAME["openai"]
    server.script(Reply(body=wire.success("y" * 3000, "m"), chunked=True), Reply(body=wire.success("ok", "m")))
    async with provider(wire, server, max_response_bytes=2000) as llm:
        with pytest.raises(ProviderResponseTooLargeError) as caught:
            await llm.complete(MESSAGES)
        assert caught.value.limit == 2000
        assert (await llm.complete(MESSAGES)).text == "ok"  # a small answer under the same cap passes


async def test_an_error_body_over_the_cap_is_refused_too(server: FakeServer) -> None:
    wire = BY_NAME["openai"]
    server.script(Reply(500, b"e" * (2 * MIB), chunked=True))
    async with provider(wire, server) as llm:
        with pytest.raises(ProviderResponseTooLargeError):
            await llm.complete(MESSAGES)
    assert len(server.requests) == 1


async def test_json_nested_too_deep_is_a_malformed_response(server: FakeServer) -> None:
    wire = BY_NAME["openai"]
    server.script(Reply(body=b"[" * 200_000))
    async with provider(wire, server) as llm:
        with pytest.raises(ProviderError) as caught:
            await llm.complete(MESSAGES)
    assert caught.value.code == "provider_error"
    assert caught.value.message == "openai returned a malformed response (not JSON)"


@pytest.mark.parametrize("wire", WIRES[:1], ids=["openai"])
async def test_timeout_is_the_total_time_of_a_request_not_per_read(wire: Wire, server: FakeServer) -> None:
    # One byte every 0.25 s never trips a per-read timeout of 1 s; the request as a whole must end at 1 s.
    server.script(Reply(body=wire.success("slow", "m"), trickle=0.25))
    async with provider(wire, server, timeout_seconds=1.0, max_retries=0) as llm:
        started = time.monotonic()
        with pytest.raises(ProviderError) as caught:
            await llm.complete(MESSAGES)
        elapsed = time.monotonic() - started
    assert "openai timed out after 1 s" in caught.value.message
    assert "PBA_TUNNEL_PROVIDER_TIMEOUT" in caught.value.message
    assert 0.9 <= elapsed < 1.8


def test_the_cap_comes_from_the_environment_or_the_file(tmp_path: Path) -> None:
    assert provider_config("openai", {"PBA_TUNNEL_HOME": str(tmp_path)}).max_response_bytes == MIB
    (tmp_path / "providers.toml").write_text("[openai]\nmax_response_bytes = 5000\n", encoding="utf-8")
    env = {"PBA_TUNNEL_HOME": str(tmp_path)}
    assert provider_config("openai", env).max_response_bytes == 5000
    env["PBA_TUNNEL_PROVIDER_MAX_RESPONSE_BYTES"] = "7000"
    assert provider_config("openai", env).max_response_bytes == 7000
