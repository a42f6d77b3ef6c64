"""Resumable streamable-HTTP streams: a priming event, a retry interval, and replay after ``Last-Event-ID``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp.server.streamable_http import GET_STREAM_KEY, EventMessage
from mcp.types import JSONRPCResponse
from mcp_server_support import GREET_SOURCE, WAIT_SECONDS, HttpServer, prepare_store

from pba_tunnel.server.event_store import CURRENT_SESSION, MemoryEventStore, SessionNote

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
VERSION = "2025-11-25"


def events(body: str) -> list[dict[str, str]]:
    """The SSE events of a response body, each as its fields."""
    parsed = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if line and not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = fields.get(name, "") + value.removeprefix(" ")
        if fields:
            parsed.append(fields)
    return parsed


@pytest.fixture
def server(home: Path) -> Iterator[HttpServer]:
    anyio.run(prepare_store, home, {"greet": GREET_SOURCE})
    started = HttpServer(home, "--transport", "http")
    try:
        started.wait_ready()
        yield started
    finally:
        started.stop()


def test_a_stream_is_primed_and_a_client_that_lost_it_gets_what_it_missed(server: HttpServer) -> None:
    with httpx2.Client(base_url=server.base, timeout=WAIT_SECONDS) as http:
        session = open_session(http)
        call = {"name": "render_template", "arguments": {"name": "greet", "arguments": {"who": "Ann"}}}
        response = http.post(
            "/mcp", headers=session, json={"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call}
        )

        priming, answer = events(response.text)
        assert (priming["data"], priming["retry"]) == ("", "1000")
        assert priming["id"].isdigit()
        assert json.loads(answer["data"])["result"]["structuredContent"]["text"] == "Hello Ann!"

        # The stream dropped right after the priming event: reconnecting from it replays the answer.
        with http.stream("GET", "/mcp", headers={**session, "last-event-id": priming["id"]}) as replay:
            body = ""
            for chunk in replay.iter_text():
                body += chunk
                if "Hello Ann!" in body:
                    break
        replayed = [event for event in events(body) if event.get("data")]
        assert json.loads(replayed[0]["data"])["id"] == 2
        assert replayed[0]["id"] == answer["id"]


def open_session(http: httpx2.Client) -> dict[str, str]:
    # A client that declares sampling: its answers are streams (the server may ask it mid-call), so they resume.
    init = http.post(
        "/mcp",
        headers=HEADERS,
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": VERSION,
                "capabilities": {"sampling": {}},
                "clientInfo": {"name": "r", "version": "1"},
            },
        },
    )
    session = {**HEADERS, "mcp-session-id": init.headers["mcp-session-id"], "mcp-protocol-version": VERSION}
    http.post("/mcp", headers=session, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
    return session


def replayed_text(http: httpx2.Client, session: dict[str, str], last_event_id: str) -> str:
    """What a GET resuming after ``last_event_id`` brings within a second."""
    body = ""
    try:
        with http.stream("GET", "/mcp", headers={**session, "last-event-id": last_event_id}, timeout=1.0) as replay:
            for chunk in replay.iter_text():
                body += chunk
                if '"id":2' in body:
                    break
    except httpx2.TimeoutException:
        pass
    return body


def test_a_session_is_replayed_only_its_own_events(server: HttpServer) -> None:
    with httpx2.Client(base_url=server.base, timeout=WAIT_SECONDS) as http:
        sessions = {who: open_session(http) for who in ("Ann", "Bo")}
        primed: dict[str, str] = {}
        for who, session in sessions.items():  # both use request id 2: the SDK names both streams "2"
            call = {"name": "render_template", "arguments": {"name": "greet", "arguments": {"who": who}}}
            response = http.post(
                "/mcp", headers=session, json={"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call}
            )
            primed[who] = events(response.text)[0]["id"]

        own = replayed_text(http, sessions["Bo"], primed["Bo"])
        assert "Hello Bo!" in own
        assert "Hello Ann!" not in own
        stolen = replayed_text(http, sessions["Bo"], primed["Ann"])  # another session's event id
        assert "Hello Ann!" not in stolen


@pytest.mark.anyio
async def test_kept_events_are_bounded_in_bytes_and_replayed_as_sent() -> None:
    # A page of a thousand prompts is ~1 MB: events are bounded by their size too, not only by their number.
    CURRENT_SESSION.set(SessionNote("session-1"))  # as SessionScope does for each HTTP request
    big = [JSONRPCResponse(jsonrpc="2.0", id=n, result={"text": "x" * 200, "n": n, "unset": None}) for n in range(1, 5)]
    store = MemoryEventStore(total_bytes=3 * len(big[0].model_dump_json(by_alias=True, exclude_unset=True)))
    ids = [await store.store_event("1", message) for message in big]
    replayed: list[EventMessage] = []

    async def collect(event: EventMessage) -> None:
        replayed.append(event)

    assert await store.replay_events_after(ids[0], collect) is None  # forgotten: the newest three fill the bound
    assert await store.replay_events_after(ids[1], collect) == "1"
    assert [(e.event_id, e.message) for e in replayed] == [(ids[2], big[2]), (ids[3], big[3])]


@pytest.mark.anyio
async def test_a_store_for_json_sessions_keeps_only_the_get_streams_events() -> None:
    # A JSON body is never resumed: its response is not serialised again and kept, the GET stream's events are.
    CURRENT_SESSION.set(SessionNote("session-1"))
    store = MemoryEventStore(streams=frozenset({GET_STREAM_KEY}))
    messages = [JSONRPCResponse(jsonrpc="2.0", id=n, result={"n": n}) for n in range(1, 4)]
    answered = await store.store_event("1", messages[0])
    first, second = [await store.store_event(GET_STREAM_KEY, message) for message in messages[1:]]
    replayed: list[EventMessage] = []

    async def collect(event: EventMessage) -> None:
        replayed.append(event)

    assert await store.replay_events_after(answered, collect) is None
    assert await store.replay_events_after(first, collect) == GET_STREAM_KEY
    assert [(e.event_id, e.message) for e in replayed] == [(second, messages[2])]
