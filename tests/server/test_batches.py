"""JSON-RPC batches of 2025-03-26 clients on the real ``pba-tunnel serve --transport http``."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp_server_support import GREET_SOURCE, HttpServer, http_servers, open_service, prepare_store

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
BATCH = [
    {"jsonrpc": "2.0", "id": 1, "method": "prompts/list"},
    {"jsonrpc": "2.0", "id": "two", "method": "prompts/get", "params": {"name": "greet", "arguments": {"who": "Ann"}}},
    {"jsonrpc": "2.0", "method": "notifications/roots/list_changed"},
    {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "tools/call",
        "params": {"name": "render_template", "arguments": {"name": "greet", "arguments": {"who": "Bo"}}},
    },
    {"jsonrpc": "2.0", "id": 4, "method": "prompts/get", "params": {"name": "nobody-wrote-this", "arguments": {}}},
]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[HttpServer]]:
    home = tmp_path_factory.mktemp("batch-home")
    anyio.run(prepare_store, home, {"greet": GREET_SOURCE})
    seeded = tmp_path_factory.mktemp("batch-seeded-home")  # with the starter library: enhance's instructions
    anyio.run(seed_store, seeded)
    with http_servers(
        lambda: HttpServer(home, "--transport", "http"),
        lambda: HttpServer(home, "--transport", "http", "--stateless"),
        lambda: HttpServer(seeded, "--transport", "http"),
    ) as started:
        yield started


async def seed_store(home: Path) -> None:
    """A store under ``home`` seeded with the starter library."""
    await (await open_service(home, PBA_TUNNEL_SEED="1")).close()


def open_session(client: httpx2.Client, url: str, capabilities: dict[str, Any] | None = None) -> dict[str, str]:
    """A 2025-03-26 handshake (no version header, as those clients send none); the headers of the session."""
    response = client.post(
        url,
        headers=HEADERS,
        json={
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-03-26",
                "capabilities": capabilities or {},
                "clientInfo": {"name": "old", "version": "1"},
            },
        },
    )
    assert response.status_code == 200, response.text
    session = response.headers.get("mcp-session-id")
    headers = {**HEADERS, **({"mcp-session-id": session} if session else {})}
    assert client.post(url, headers=headers, json=INITIALIZED).status_code == 202
    return headers


def post(server: HttpServer, body: Any, capabilities: dict[str, Any] | None = None, **extra: str) -> httpx2.Response:
    """Open a 2025-03-26 session on ``server`` and POST ``body`` in it."""
    url = f"{server.base}/mcp"
    with httpx2.Client(timeout=30) as client:
        headers = open_session(client, url, capabilities)
        return client.post(url, headers={**headers, **extra}, json=body)


@pytest.mark.parametrize("mode", ["stateful", "stateless"])
def test_a_batch_gets_one_array_of_the_responses_in_request_order(servers: list[HttpServer], mode: str) -> None:
    server = servers[0] if mode == "stateful" else servers[1]
    response = post(server, BATCH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    answers = response.json()
    assert [answer["id"] for answer in answers] == [1, "two", 3, 4]
    assert [prompt["name"] for prompt in answers[0]["result"]["prompts"]] == ["greet"]
    assert answers[1]["result"]["messages"] == [{"role": "user", "content": {"type": "text", "text": "Hello Ann!"}}]
    assert answers[2]["result"]["isError"] is False
    assert answers[2]["result"]["structuredContent"]["text"] == "Hello Bo!"
    assert answers[3]["error"]["code"] == -32602
    assert "nobody-wrote-this" in answers[3]["error"]["message"]


def test_a_batch_of_notifications_only_is_accepted(servers: list[HttpServer]) -> None:
    response = post(servers[0], [{"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}])
    assert response.status_code == 202
    assert response.content == b""


def test_a_batch_under_a_later_version_is_refused_as_before(servers: list[HttpServer]) -> None:
    response = post(servers[0], BATCH[:2], **{"mcp-protocol-version": "2025-06-18"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32602  # the SDK's "Validation error" for a body that is no message


def test_an_empty_batch_is_an_invalid_request(servers: list[HttpServer]) -> None:
    response = post(servers[0], [])
    assert response.status_code == 400
    assert response.json() == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32600, "message": "the JSON-RPC batch is empty: send at least one message"},
    }


def test_a_batch_over_the_limit_is_refused_whole(servers: list[HttpServer]) -> None:
    response = post(servers[0], [{"jsonrpc": "2.0", "id": n, "method": "ping"} for n in range(101)])
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == -32600
    assert "at most 100 messages; this one holds 101" in error["message"]


def test_initialize_is_refused_inside_a_batch(servers: list[HttpServer]) -> None:
    initialize = {"jsonrpc": "2.0", "id": 9, "method": "initialize", "params": {}}
    response = post(servers[0], [initialize, {"jsonrpc": "2.0", "id": 10, "method": "ping"}])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32600


def test_a_batch_in_an_unknown_session_is_refused_as_a_single_message_would_be(servers: list[HttpServer]) -> None:
    url = f"{servers[0].base}/mcp"
    headers = {**HEADERS, "mcp-session-id": "no-such-session"}
    single = httpx2.post(url, headers=headers, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    batch = httpx2.post(url, headers=headers, json=[{"jsonrpc": "2.0", "id": 1, "method": "ping"}])
    assert single.status_code == batch.status_code == 404
    assert batch.json() == single.json()


def test_a_batch_from_another_site_is_refused_by_the_rebinding_check(servers: list[HttpServer]) -> None:
    response = post(servers[0], BATCH[:1], Origin="http://evil.example.com")
    assert response.status_code == 403


def test_a_batched_request_that_would_ask_the_client_back_is_told_it_cannot(servers: list[HttpServer]) -> None:
    # The server's sampling request has no way to reach a client waiting for one JSON array: it is declined.
    enhance = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "enhance_template", "arguments": {"name": "code-review", "provider": "sampling"}},
    }
    response = post(servers[2], [enhance, {"jsonrpc": "2.0", "id": 2, "method": "ping"}], {"sampling": {}})
    assert response.status_code == 200, response.text
    first, second = response.json()
    assert first["id"] == 1
    assert first["result"]["isError"] is True
    assert "inside a JSON-RPC batch, so it cannot be asked anything back" in first["result"]["content"][0]["text"]
    assert second == {"jsonrpc": "2.0", "id": 2, "result": {}}


def test_a_message_the_sdk_refuses_gets_its_refusal_and_the_rest_still_run(servers: list[HttpServer]) -> None:
    response = post(
        servers[0], [{"jsonrpc": "2.0", "id": 1, "method": 7}, {"jsonrpc": "2.0", "id": 2, "method": "ping"}]
    )
    assert response.status_code == 200, response.text
    refused, pinged = response.json()
    assert refused["id"] == 1
    assert refused["error"]["code"] == -32602  # the SDK's "Validation error", as for the message posted alone
    assert pinged == {"jsonrpc": "2.0", "id": 2, "result": {}}


def test_a_batch_over_the_body_limit_gets_the_sdks_413(servers: list[HttpServer]) -> None:
    padding = "x" * (4 * 1024 * 1024)
    response = post(servers[0], [{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"_meta": {"pad": padding}}}])
    assert response.status_code == 413


SLOW_LOOPS = "{% for i in range(1000) %}{% for j in range(900) %}{% endfor %}{% endfor %}"  # ~0.15 s a render
SLOW_SOURCE = f"---\ndescription: Takes a while.\n---\n{SLOW_LOOPS}\n"
SLOW_BATCH = 40


def call(client: httpx2.Client, url: str, headers: dict[str, str], method: str, **params: Any) -> dict[str, Any]:
    """One request, sent as a batch of one (its answer is plain JSON, not an event stream)."""
    response = client.post(url, headers=headers, json=[{"jsonrpc": "2.0", "id": 1, "method": method, "params": params}])
    assert response.status_code == 200, response.text
    (answer,) = response.json()
    return answer  # type: ignore[no-any-return]


def renders_of(client: httpx2.Client, url: str, headers: dict[str, str], name: str) -> int:
    """How many renders of ``name`` the server recorded today (its template_stats tool)."""
    stats = {"name": name, "since_days": 1}
    result = call(client, url, headers, "tools/call", name="template_stats", arguments=stats)["result"]
    return sum(row["renders"] for row in result["structuredContent"]["stats"])


def test_a_batch_whose_client_left_stops_running(servers: list[HttpServer]) -> None:
    server = servers[2]
    url = f"{server.base}/mcp"
    render = {"name": "render_template", "arguments": {"name": "slow-batch"}}
    batch = [{"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": render} for n in range(SLOW_BATCH)]
    with httpx2.Client(timeout=30) as client:
        headers = open_session(client, url)
        create = {"source": SLOW_SOURCE, "name": "slow-batch"}
        assert (
            call(client, url, headers, "tools/call", name="create_template", arguments=create)["result"]["isError"]
            is False
        )
        body = json.dumps(batch).encode()
        head = f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
        with socket.create_connection(("127.0.0.1", server.port)) as leaving:
            leaving.sendall(head.encode() + body)
            time.sleep(0.5)  # a few renders run, then the client gives up

        started = time.perf_counter()
        assert call(client, url, headers, "ping") == {"jsonrpc": "2.0", "id": 1, "result": {}}
        assert time.perf_counter() - started < 1.0  # answered at once, not after the batch's renders
        time.sleep(0.5)  # the render under way when the client left is still recorded
        recorded = renders_of(client, url, headers, "slow-batch")
        time.sleep(1.0)  # a batch still running would record several more renders by now
        assert renders_of(client, url, headers, "slow-batch") == recorded
        assert 0 < recorded < SLOW_BATCH
