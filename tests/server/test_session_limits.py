"""One client cannot hold every HTTP session: a bound per client (address or token), the rest stay for others."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp_server_support import GREET_SOURCE, WAIT_SECONDS, HttpServer, prepare_store

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "s", "version": "1"}},
}


@pytest.fixture
def server(home: Path) -> Iterator[HttpServer]:
    anyio.run(prepare_store, home, {"greet": GREET_SOURCE})
    started = HttpServer(home, "--transport", "http", env={"PBA_TUNNEL_HTTP_SESSIONS_PER_CLIENT": "3"})
    try:
        started.wait_ready()
        yield started
    finally:
        started.stop()


def client_at(server: HttpServer, address: str) -> httpx2.Client:
    """An HTTP client whose connections come from ``address`` (another loopback address is another client)."""
    return httpx2.Client(
        base_url=server.base, timeout=WAIT_SECONDS, transport=httpx2.HTTPTransport(local_address=address)
    )


def test_a_client_holding_its_share_of_sessions_is_refused_another_and_others_are_not(server: HttpServer) -> None:
    with client_at(server, "127.0.0.1") as greedy, client_at(server, "127.0.0.2") as other:
        sessions = []
        for _ in range(3):
            response = greedy.post("/mcp", headers=HEADERS, json=INITIALIZE)
            assert response.status_code == 200
            sessions.append(response.headers["mcp-session-id"])

        refused = greedy.post("/mcp", headers=HEADERS, json=INITIALIZE)
        assert (refused.status_code, refused.headers["retry-after"]) == (429, "60")
        assert "already holds 3 MCP sessions" in refused.json()["error"]["message"]

        assert other.post("/mcp", headers=HEADERS, json=INITIALIZE).status_code == 200  # another client is served

        ended = greedy.delete("/mcp", headers={**HEADERS, "mcp-session-id": sessions[0]})
        assert ended.status_code == 200
        assert greedy.post("/mcp", headers=HEADERS, json=INITIALIZE).status_code == 200  # a slot is free again


def test_any_loopback_address_is_served_as_loopback(home: Path) -> None:
    """Bound to 127.0.0.2 without a token: it starts, and a client there is served (no 421 from the Host check)."""
    anyio.run(prepare_store, home, {"greet": GREET_SOURCE})
    server = HttpServer(home, "--transport", "http", host="127.0.0.2")
    try:
        server.wait_ready()
        with httpx2.Client(base_url=server.base, timeout=WAIT_SECONDS) as http:
            response = http.post("/mcp", headers=HEADERS, json=INITIALIZE)
        assert response.status_code == 200, response.text
        assert "mcp-session-id" in response.headers
    finally:
        server.stop()
