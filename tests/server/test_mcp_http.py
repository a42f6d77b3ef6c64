"""The real ``pba-tunnel serve --transport http|sse`` on 127.0.0.1: SDK clients, DNS rebinding, tokens, health."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent
from mcp_server_support import (
    GREET_SOURCE,
    PROMPTS_CHANGED,
    REVIEW_SOURCE,
    HttpServer,
    NotificationLog,
    cli_in_thread,
    free_port,
    greet_source,
    http_servers,
    next_changes,
    prepare_store,
    template_file,
)

from conftest import run_cli

pytestmark = pytest.mark.anyio

TOKEN = "correct-horse-battery-staple"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
}
STREAMABLE = {"Accept": "application/json, text/event-stream"}
ERROR_CODE = "pba-tunnel/code"  # the key of a tool error's stable code in its _meta


class Servers:
    """The servers this module shares (started together: their start-ups overlap)."""

    def __init__(self, started: list[HttpServer], watched_home: Path, broken_store: Path) -> None:
        self.stateful, self.stateless, self.with_token, self.sse, self.watched, self.broken = started
        self.watched_home = watched_home
        self.broken_store = broken_store


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    home = tmp_path_factory.mktemp("http-home")
    anyio.run(prepare_store, home, {"greet": GREET_SOURCE, "code-review": REVIEW_SOURCE})
    watched_home = tmp_path_factory.mktemp("http-watched-home")  # this one's store changes during a test
    anyio.run(prepare_store, watched_home, {"greet": GREET_SOURCE})
    broken_home = tmp_path_factory.mktemp("http-broken-home")
    broken_store = broken_home / "notes.db"
    broken_store.write_text("not a database\n" * 100, encoding="utf-8")
    with http_servers(
        lambda: HttpServer(home, "--transport", "http"),
        lambda: HttpServer(home, "--transport", "http", "--stateless"),
        # This one also answers with JSON bodies, as PBA_TUNNEL_HTTP_RESPONSES=json asks.
        lambda: HttpServer(
            home, "--transport", "http", "--auth-token", TOKEN, env={"PBA_TUNNEL_HTTP_RESPONSES": "json"}
        ),
        lambda: HttpServer(home, "--transport", "sse"),
        lambda: HttpServer(watched_home, "--transport", "http"),
        lambda: HttpServer(
            broken_home, "--transport", "http", env={"PBA_TUNNEL_DATABASE_URL": f"sqlite+aiosqlite:///{broken_store}"}
        ),
    ) as started:
        yield Servers(started, watched_home, broken_store)


def test_healthz_reports_a_reachable_store(servers: Servers) -> None:
    for server in (servers.stateful, servers.stateless, servers.sse):
        response = httpx2.get(f"{server.base}/healthz")
        assert response.status_code == 200
        health = response.json()
        assert {k: health[k] for k in ("status", "store", "templates", "kind", "listener")} == {
            "status": "ok",
            "store": "reachable",
            "templates": 2,
            "kind": "sqlite",
            "listener": None,  # SQLite has no listener: changes are noticed by the data version
        }
        assert 0 <= health["latency_ms"] < 5000
        assert health["pool"]["checked_out"] >= 0


async def test_an_unusable_store_is_reported_by_healthz_and_to_every_request(servers: Servers) -> None:
    response = httpx2.get(f"{servers.broken.base}/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body == {"status": "error", "store": "unreachable", "error": "store_error"}  # never a path

    async with Client(f"{servers.broken.base}/mcp", mode="legacy", cache=None) as client:
        with pytest.raises(MCPError) as caught:
            await client.list_prompts()
    assert caught.value.error.code == -32603
    assert caught.value.error.message.startswith("template store unavailable: ")
    assert caught.value.error.message.endswith("(the server tries again every 5 s)")


def first_text(result: object) -> str:
    content = result.messages[0].content  # type: ignore[attr-defined]
    assert isinstance(content, TextContent)
    return content.text


@pytest.mark.parametrize("stateless", [False, True], ids=["stateful", "stateless"])
@pytest.mark.parametrize(("mode", "version"), [("legacy", "2025-11-25"), ("auto", "2026-07-28")])
async def test_the_sdk_client_lists_and_gets_prompts_over_streamable_http(
    servers: Servers, stateless: bool, mode: str, version: str
) -> None:
    server = servers.stateless if stateless else servers.stateful

    async with Client(f"{server.base}/mcp", mode=mode, cache=None) as client:
        assert client.protocol_version == version
        assert client.server_info is not None
        assert client.server_info.name == "pba-tunnel"
        assert [p.name for p in (await client.list_prompts()).prompts] == ["code-review", "greet"]
        assert first_text(await client.get_prompt("greet", {"who": "Ann"})) == "Hello Ann!"
        review = await client.get_prompt("code-review", {"language": "Go", "code": "x"})
        assert first_text(review) == (
            "You are a meticulous senior Go reviewer.\n\nReview this code for beginners, focusing on correctness:\n\nx"
        )
        with pytest.raises(MCPError) as caught:
            await client.get_prompt("nope", {})
        assert caught.value.error.code == -32602
        assert caught.value.error.message == (
            "Unknown prompt 'nope': no template named 'nope'; "
            "call prompts/list or the search_templates tool to find the names"
        )
        rendered = await client.call_tool("render_template", {"name": "greet", "arguments": {"who": "Bo"}})
        assert rendered.structured_content is not None
        assert rendered.structured_content["text"] == "Hello Bo!"


@pytest.mark.parametrize(
    ("headers", "status", "body"),
    [
        pytest.param({"Host": "evil.example.com"}, 421, "Invalid Host header", id="foreign-host"),
        pytest.param({"Host": "evil.example.com:80"}, 421, "Invalid Host header", id="foreign-host-with-port"),
        pytest.param({"Origin": "http://evil.example.com"}, 403, "Invalid Origin header", id="foreign-origin"),
    ],
)
def test_requests_from_foreign_hosts_or_origins_are_refused(
    servers: Servers, headers: dict[str, str], status: int, body: str
) -> None:
    """A web page that rebinds its DNS name to 127.0.0.1 must not reach the server."""
    for server in (servers.stateful, servers.stateless):
        refused = httpx2.post(f"{server.base}/mcp", json=INITIALIZE, headers={**STREAMABLE, **headers})
        assert (refused.status_code, refused.text) == (status, body)

    sse_refused = httpx2.get(f"{servers.sse.base}/sse", headers=headers)
    assert (sse_refused.status_code, sse_refused.text) == (status, body)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_requests_from_loopback_names_are_served(servers: Servers, host: str) -> None:
    port = servers.stateful.port
    headers = {**STREAMABLE, "Host": f"{host}:{port}", "Origin": f"http://{host}:{port}"}

    response = httpx2.post(f"{servers.stateful.base}/mcp", json=INITIALIZE, headers=headers)

    assert response.status_code == 200
    assert '"serverInfo":{' in response.text
    assert '"protocolVersion":"2025-11-25"' in response.text


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_binding_beyond_loopback_without_a_token_refuses_to_start(home: Path, transport: str) -> None:
    result = run_cli("serve", "--transport", transport, "--host", "0.0.0.0", "--port", str(free_port()), home=home)

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "error: binding to 0.0.0.0 exposes your templates to the network: pass --auth-token or set "
        "PBA_TUNNEL_AUTH_TOKEN (clients then send 'Authorization: Bearer <token>'), or bind to 127.0.0.1\n"
    )
    assert list(home.iterdir()) == []  # refused before the store was touched


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", TOKEN, f"Basic {TOKEN}", f"Bearer {TOKEN}x"],
    ids=["none", "wrong-token", "no-scheme", "other-scheme", "token-prefix"],
)
def test_with_a_token_requests_without_the_right_bearer_header_get_401(
    servers: Servers, authorization: str | None
) -> None:
    headers = dict(STREAMABLE)
    if authorization is not None:
        headers["Authorization"] = authorization

    response = httpx2.post(f"{servers.with_token.base}/mcp", json=INITIALIZE, headers=headers)

    assert response.status_code == 401
    assert response.json() == {
        "error": "unauthorized",
        "message": "send the server's token as 'Authorization: Bearer <token>'",
    }
    assert response.headers["www-authenticate"] == 'Bearer realm="pba-tunnel"'


async def test_with_a_token_the_sdk_client_sending_it_is_served(servers: Servers) -> None:
    health = httpx2.get(f"{servers.with_token.base}/healthz")  # liveness needs no token, and tells no more
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    detailed = httpx2.get(f"{servers.with_token.base}/healthz", headers={"Authorization": f"Bearer {TOKEN}"})
    assert {k: v for k, v in detailed.json().items() if k in ("status", "store", "templates", "kind")} == {
        "status": "ok",
        "store": "reachable",
        "templates": 2,
        "kind": "sqlite",
    }

    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http,
        Client(streamable_http_client(f"{servers.with_token.base}/mcp", http_client=http), mode="legacy") as client,
    ):
        assert [p.name for p in (await client.list_prompts()).prompts] == ["code-review", "greet"]
        assert first_text(await client.get_prompt("greet", {"who": "Ann"})) == "Hello Ann!"


def test_answers_are_sse_streams_only_for_stateful_clients_that_may_be_asked_to_sample(servers: Servers) -> None:
    def answer_types(server: HttpServer, capabilities: dict[str, object], **headers: str) -> list[str]:
        initialize = {**INITIALIZE, "params": {**INITIALIZE["params"], "capabilities": capabilities}}
        opened = httpx2.post(f"{server.base}/mcp", json=initialize, headers={**STREAMABLE, **headers})
        assert opened.status_code == 200, opened.text
        assert '"serverInfo"' in opened.text
        types = [opened.headers["content-type"].split(";")[0]]
        if "mcp-session-id" in opened.headers:  # the session's next request is answered the same way
            session = {"Mcp-Session-Id": opened.headers["mcp-session-id"], "Mcp-Protocol-Version": "2025-11-25"}
            ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
            pinged = httpx2.post(f"{server.base}/mcp", json=ping, headers={**STREAMABLE, **session, **headers})
            assert pinged.status_code == 200, pinged.text
            types.append(pinged.headers["content-type"].split(";")[0])
        return types

    json, sse = "application/json", "text/event-stream"
    # enhance_template asks a client that declared sampling mid-call: only a stream can carry that request.
    assert answer_types(servers.stateful, {"sampling": {}}) == [sse, sse]
    assert answer_types(servers.stateful, {}) == [json, json]  # about half the server CPU per request
    assert answer_types(servers.stateless, {"sampling": {}}) == [json]
    token = {"Authorization": f"Bearer {TOKEN}"}
    assert answer_types(servers.with_token, {"sampling": {}}, **token) == [json, json]  # as asked


def test_a_streamed_session_that_was_deleted_is_gone(servers: Servers) -> None:
    initialize = {**INITIALIZE, "params": {**INITIALIZE["params"], "capabilities": {"sampling": {}}}}
    opened = httpx2.post(f"{servers.stateful.base}/mcp", json=initialize, headers=STREAMABLE)
    session = {"Mcp-Session-Id": opened.headers["mcp-session-id"], "Mcp-Protocol-Version": "2025-11-25"}
    ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}

    deleted = httpx2.delete(f"{servers.stateful.base}/mcp", headers={**STREAMABLE, **session})
    again = httpx2.post(f"{servers.stateful.base}/mcp", json=ping, headers={**STREAMABLE, **session})

    assert deleted.status_code == 200
    assert again.status_code == 404  # as for any session the server does not know
    assert again.json()["error"]["message"] == "Session not found"


async def test_the_sdk_sse_client_lists_and_gets_prompts(servers: Servers) -> None:
    async with Client(sse_client(f"{servers.sse.base}/sse"), mode="legacy", cache=None) as client:
        assert client.protocol_version == "2025-11-25"
        prompts = client.server_capabilities.prompts
        assert prompts is not None
        assert prompts.list_changed is True
        assert [p.name for p in (await client.list_prompts()).prompts] == ["code-review", "greet"]
        assert first_text(await client.get_prompt("greet", {"who": "Ann"})) == "Hello Ann!"
        with pytest.raises(MCPError) as caught:
            await client.get_prompt("greet", {})
        assert caught.value.error.code == -32602


async def test_http_clients_of_both_eras_hear_of_writes_by_the_cli(servers: Servers) -> None:
    url = f"{servers.watched.base}/mcp"
    log = NotificationLog()
    async with (
        Client(url, mode="legacy", cache=None, message_handler=log) as legacy,
        Client(url, cache=None) as modern,
        modern.listen(prompts_list_changed=True, resources_list_changed=True) as subscription,
    ):
        assert [p.name for p in (await legacy.list_prompts()).prompts] == ["greet"]

        path = template_file(servers.watched_home, "welcome", greet_source("Welcome", "Welcomes someone."))
        result = await cli_in_thread(servers.watched_home, "import", str(path))
        assert (result.returncode, result.stdout) == (0, "added 1, updated 0, unchanged 0, failed 0\n")

        await log.wait_for(PROMPTS_CHANGED, 1)
        assert await next_changes(subscription) == {"PromptsListChanged", "ResourcesListChanged"}
        for client in (legacy, modern):
            assert [p.name for p in (await client.list_prompts()).prompts] == ["greet", "welcome"]


def refusal(result: CallToolResult) -> tuple[str | None, str]:
    """The stable code and the text of a tool error."""
    assert result.is_error is True
    [block] = result.content
    assert isinstance(block, TextContent)
    assert result.structured_content is None  # it would have to match the tool's output schema
    return (result.meta or {}).get(ERROR_CODE), block.text


@pytest.mark.parametrize(
    ("tool", "arguments", "code", "text"),
    [
        pytest.param(  # what the README promises a no-token loopback client moving a protected label
            "set_label",
            {"name": "greet", "label": "production"},
            "admin_required",
            "set_label failed: label 'production' is protected",
            id="protected-label",
        ),
        pytest.param(
            "create_template",
            {"source": "---\ndescription: d\n---\nHi\n", "name": "Evil"},
            "invalid_template",
            # the name came from the tool's argument: no line of the source to point at, and no regex
            "create_template failed: name: 'Evil' is not a valid name: a name uses lowercase letters, digits, '-' "
            "and '_', starting with a letter or digit",
            id="name-pattern",
        ),
        pytest.param(
            "render_template",
            {"name": "greet", "arguments": {"who": 1}},
            "invalid_arguments",
            "render_template failed: argument 'who' of 'greet' must be of type string, got the number 1; "
            'send it as a JSON string, e.g. {"who": "1"}',
            id="number-for-a-string",
        ),
        pytest.param(
            "render_template",
            {"name": "greet", "arguments": {"who": {"a": [1]}}},
            "invalid_arguments",
            """render_template failed: argument 'who' of 'greet' must be of type string, got the object {"a": [1]}; """
            """send it as a JSON string, e.g. {"who": "..."}""",
            id="object-for-a-string",
        ),
        pytest.param(
            "search_templates",
            {"query": "category:security -category:security"},
            "invalid_query",
            "search_templates failed: '-category:security' would exclude a category, which search cannot do",
            id="excluded-category",
        ),
        pytest.param("no_such_tool", {}, "unknown_tool", "unknown tool 'no_such_tool'", id="unknown-tool"),
        pytest.param(
            "get_template", {}, "invalid_arguments", "invalid arguments for get_template: name", id="bad-tool-input"
        ),
    ],
)
async def test_tool_errors_are_worded_and_carry_their_stable_code(
    servers: Servers, tool: str, arguments: dict[str, Any], code: str, text: str
) -> None:
    async with Client(f"{servers.stateful.base}/mcp", mode="legacy", cache=None) as client:
        got_code, got_text = refusal(await client.call_tool(tool, arguments))
    assert got_code == code
    assert got_text.startswith(text)
    assert "should match pattern" not in got_text


def test_prompts_get_with_non_string_arguments_is_refused_naming_them(servers: Servers) -> None:
    with httpx2.Client(base_url=servers.stateful.base, timeout=10, headers=STREAMABLE) as http:
        opened = http.post("/mcp", json=INITIALIZE)
        session = {"mcp-session-id": opened.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
        http.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
        params = {"name": "code-review", "arguments": {"language": 1, "code": None}}
        answer = http.post(
            "/mcp", json={"jsonrpc": "2.0", "id": 2, "method": "prompts/get", "params": params}, headers=session
        ).json()
    # The SDK refuses these params before our handler runs; its refusal keeps its code and gains the details.
    assert answer["error"] == {
        "code": -32602,
        "message": "Invalid request parameters: arguments.language: 1 is not a string; arguments.code: null is not "
        "a string (leave the argument out instead); prompt arguments are strings: send each value as a JSON string, "
        'e.g. {"language": "1"}',
        "data": {
            "reason": "invalid_arguments",
            "problems": [
                "arguments.language: 1 is not a string",
                "arguments.code: null is not a string (leave the argument out instead)",
            ],
        },
    }
