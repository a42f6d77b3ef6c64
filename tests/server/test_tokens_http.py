"""Tokens with scopes and rate limits through a real ``pba-tunnel serve --transport http`` on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import MCPError
from mcp.types import TextContent
from mcp_server_support import GREET_SOURCE, WAIT_SECONDS, HttpServer, bearer_client, open_service

from conftest import run_cli

pytestmark = pytest.mark.anyio

ENV_TOKEN = "the-single-admin-token"
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
}
READ_TOOLS = {
    "render_template",
    "search_templates",
    "list_templates",
    "get_template",
    "template_history",
    "diff_template",
    "template_stats",
}
# Low enough for a test to reach, high enough that the other tests (a dozen requests per token) never do.
LIMITS = {
    "PBA_TUNNEL_RATE_REQUESTS": "1",
    "PBA_TUNNEL_RATE_REQUESTS_BURST": "40",
    "PBA_TUNNEL_RATE_RENDERS": "0.2",
    "PBA_TUNNEL_RATE_RENDERS_BURST": "2",
}
NEW_SOURCE = "---\ndescription: Says bye.\n---\nBye!\n"


@dataclass
class Served:
    """The server of this module, its store and the secrets of the tokens made for it."""

    server: HttpServer
    home: Path
    secrets: dict[str, str]
    made_at: float  # when the tokens were made (monotonic): "brief" expires a second later


async def make_tokens(home: Path) -> dict[str, str]:
    """A store with ``greet`` and one token per case; returns name -> secret."""
    service = await open_service(home)
    try:
        await service.create(GREET_SOURCE, name="greet")
        made = {}
        cases = [("reader", "read"), ("writer", "write"), ("boss", "admin"), ("doomed", "read")]
        for name, scope in [*cases, ("flood", "read"), ("renderer", "read"), ("bystander", "read")]:
            made[name] = (await service.tokens.create(name, scope))[1]
        made["brief"] = (await service.tokens.create("brief", "admin", lifetime=timedelta(seconds=1)))[1]
        made["gone"] = (await service.tokens.create("gone", "admin"))[1]
        await service.tokens.revoke("gone")
        made["mislabelled"] = (await service.tokens.create("mislabelled", "read", label="staging"))[1]
    finally:
        await service.close()
    # As an older version stored it, before token labels were checked at creation.
    with sqlite3.connect(home / "pba-tunnel.db") as connection:
        connection.execute("UPDATE api_tokens SET label = 'BAD' WHERE name = 'mislabelled'")
    return made


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("tokens-home")
    secrets = anyio.run(make_tokens, home)
    made_at = time.monotonic()
    server = HttpServer(home, "--transport", "http", env={"PBA_TUNNEL_AUTH_TOKEN": ENV_TOKEN, **LIMITS})
    try:
        server.wait_ready()
        yield Served(server, home, secrets, made_at)
    finally:
        server.stop()


def text_of(result: object) -> str:
    content = result.content[0]  # type: ignore[attr-defined]
    assert isinstance(content, TextContent)
    return content.text


async def test_a_read_token_cannot_create_and_is_told_it_needs_write(served: Served) -> None:
    async with bearer_client(served.server.base, served.secrets["reader"]) as client:
        result = await client.call_tool("create_template", {"source": NEW_SOURCE, "name": "bye"})
        assert result.is_error
        assert text_of(result) == (
            "create_template needs a token with the 'write' scope; this request's token 'reader' has the 'read' "
            "scope. Ask the server's owner for a 'write' token (tools/list shows only the tools this token may call)."
        )
        rendered = await client.call_tool("render_template", {"name": "greet", "arguments": {"who": "Ann"}})
        assert (rendered.is_error, text_of(rendered)) == (False, "Hello Ann!")
        assert [p.name for p in (await client.list_prompts()).prompts] == ["greet"]  # nothing was created


async def test_tools_list_shows_each_token_only_what_it_may_call(served: Served) -> None:
    seen = {}
    for name in ("reader", "writer", "boss"):
        async with bearer_client(served.server.base, served.secrets[name]) as client:
            seen[name] = {tool.name for tool in (await client.list_tools()).tools}
    assert seen["reader"] == READ_TOOLS
    assert seen["writer"] > READ_TOOLS
    assert {"create_template", "update_template", "delete_template", "rollback_template", "set_label"} <= seen["writer"]
    assert seen["boss"] == seen["writer"]  # no tool is admin-only yet: protected labels are checked per label


async def test_a_write_token_writes_and_its_version_is_kept(served: Served) -> None:
    async with bearer_client(served.server.base, served.secrets["writer"]) as client:
        created = await client.call_tool("create_template", {"source": NEW_SOURCE, "name": "bye-writer"})
        assert not created.is_error, text_of(created)
        deleted = await client.call_tool("delete_template", {"name": "bye-writer"})
        assert not deleted.is_error, text_of(deleted)


async def test_the_single_auth_token_still_works_as_an_admin(served: Served) -> None:
    async with bearer_client(served.server.base, ENV_TOKEN) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert "create_template" in names
        result = await client.call_tool("create_template", {"source": NEW_SOURCE, "name": "bye-admin"})
        assert not result.is_error, text_of(result)


@pytest.mark.parametrize(("token", "reason"), [("brief", "expired"), ("gone", "revoked")], ids=["expired", "revoked"])
def test_expired_and_revoked_tokens_get_401_saying_why(served: Served, token: str, reason: str) -> None:
    time.sleep(max(0.0, served.made_at + 1.1 - time.monotonic()))
    response = httpx2.post(
        f"{served.server.base}/mcp",
        json=INITIALIZE,
        headers={**HEADERS, "Authorization": f"Bearer {served.secrets[token]}"},
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        f'Bearer realm="pba-tunnel", error="invalid_token", error_description="token {reason}"'
    )
    assert response.json()["message"].startswith(
        f"this token {'has expired' if reason == 'expired' else 'was revoked'}"
    )


def test_a_token_stored_with_a_bad_label_is_refused_saying_an_admin_must_recreate_it(served: Served) -> None:
    headers = {**HEADERS, "Authorization": f"Bearer {served.secrets['mislabelled']}"}
    for message in (INITIALIZE, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}):
        response = httpx2.post(f"{served.server.base}/mcp", json=message, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == (
            'Bearer realm="pba-tunnel", error="invalid_token", error_description="token invalid label"'
        )
        body = response.json()
        assert (body["error"], body["reason"]) == ("unauthorized", "invalid_label")
        assert body["message"].startswith(
            "token 'mislabelled' is fixed to the label 'BAD', which is not a valid label name"
        )
        assert "an admin must revoke it and create it again with a valid label" in body["message"]
    listed = run_cli("token", "list", "--json", home=served.home, env={"PBA_TUNNEL_SEED": "0"})
    states = {token["name"]: (token["label"], token["state"]) for token in json.loads(listed.stdout)}
    assert states["mislabelled"] == ("BAD", "invalid-label")  # the admin sees which token to recreate


@pytest.mark.parametrize(
    "authorization", [None, "Bearer pbat_not-a-token", "Bearer nope"], ids=["none", "unknown", "foreign"]
)
def test_without_a_known_token_the_answer_is_401(served: Served, authorization: str | None) -> None:
    headers = dict(HEADERS) if authorization is None else {**HEADERS, "Authorization": authorization}
    response = httpx2.post(f"{served.server.base}/mcp", json=INITIALIZE, headers=headers)
    assert (response.status_code, response.headers["www-authenticate"]) == (401, 'Bearer realm="pba-tunnel"')


async def test_a_token_revoked_while_the_server_runs_is_refused_within_a_second(served: Served) -> None:
    headers = {**HEADERS, "Authorization": f"Bearer {served.secrets['doomed']}"}
    async with httpx2.AsyncClient(base_url=served.server.base, timeout=WAIT_SECONDS) as http:
        assert (await http.post("/mcp", json=INITIALIZE, headers=headers)).status_code == 200
        service = await open_service(served.home)  # another process revokes it, as `pba-tunnel token revoke` does
        try:
            await service.tokens.revoke("doomed")
        finally:
            await service.close()
        with anyio.fail_after(WAIT_SECONDS):  # the server trusts what the store said for a second
            while (await http.post("/mcp", json=INITIALIZE, headers=headers)).status_code != 401:
                await anyio.sleep(0.05)


def test_a_session_answers_only_the_token_that_opened_it(served: Served) -> None:
    with httpx2.Client(base_url=served.server.base, timeout=WAIT_SECONDS) as http:
        opened = http.post("/mcp", json=INITIALIZE, headers={**HEADERS, "Authorization": f"Bearer {ENV_TOKEN}"})
        session = opened.headers["mcp-session-id"]
        borrowed = http.post(
            "/mcp",
            json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            headers={**HEADERS, "Authorization": f"Bearer {served.secrets['reader']}", "mcp-session-id": session},
        )
    assert borrowed.status_code == 404


def test_the_store_keeps_no_token_in_clear(served: Served) -> None:
    files = sorted(served.home.glob("pba-tunnel.db*"))
    stored = b"".join(path.read_bytes() for path in files)
    for secret in served.secrets.values():
        assert secret.encode() not in stored
    assert hashlib.sha256(served.secrets["reader"].encode()).hexdigest().encode() in stored


# -- rate limits ------------------------------------------------------------------------------------------


def bearer(secret: str, **more: str) -> dict[str, str]:
    return {**HEADERS, "Authorization": f"Bearer {secret}", **more}


def jsonrpc_answer(response: httpx2.Response) -> dict[str, object]:
    """The JSON-RPC message of a streamable-HTTP answer (plain JSON or one SSE event)."""
    if response.headers["content-type"].startswith("application/json"):
        return dict(response.json())
    data = [line.removeprefix("data:").strip() for line in response.text.splitlines() if line.startswith("data:")]
    return dict(json.loads(next(item for item in data if item)))


def flood(http: httpx2.Client, headers: dict[str, str], path: str = "/mcp") -> httpx2.Response:
    """Plain HTTP requests (GET) until one is refused; the refusal."""
    for _ in range(200):
        response = http.get(path, headers=headers)
        if response.status_code == 429:
            return response
    raise AssertionError("no request was refused")


def test_a_client_over_its_request_limit_gets_429_with_retry_after_and_others_are_served(served: Served) -> None:
    with httpx2.Client(base_url=served.server.base, timeout=WAIT_SECONDS) as http:
        opened = http.post("/mcp", json=INITIALIZE, headers=bearer(served.secrets["flood"]))
        session = opened.headers["mcp-session-id"]

        refused = flood(http, bearer(served.secrets["flood"]))
        assert refused.headers["retry-after"] == "1"  # one request comes back every second
        assert refused.json() == {
            "error": "rate_limited",
            "limit": "requests",
            "retry_after": 1,
            "message": "too many requests from this client: retry in 1 s",
        }

        # An MCP request over the limit is answered by the MCP dispatch: a JSON-RPC error with the wait in data.
        for _ in range(3):  # the bucket refills one request a second: a very slow machine may see one pass
            listed = http.post(
                "/mcp",
                json={"jsonrpc": "2.0", "id": 7, "method": "tools/list"},
                headers=bearer(served.secrets["flood"], **{"mcp-session-id": session}),
            )
            assert listed.status_code == 200
            answer = jsonrpc_answer(listed)
            if "error" in answer:
                break
            flood(http, bearer(served.secrets["flood"]))
        assert answer["id"] == 7
        error = answer["error"]
        assert isinstance(error, dict)
        assert error["code"] == -32029
        assert error["data"]["limit"] == "requests"
        assert 0 < error["data"]["retryAfter"] <= 1

        other = http.post("/mcp", json=INITIALIZE, headers=bearer(served.secrets["bystander"]))
        assert other.status_code == 200  # each token has its own buckets


async def test_renders_beyond_their_limit_get_a_json_rpc_error_with_the_retry_time(served: Served) -> None:
    async with bearer_client(served.server.base, served.secrets["renderer"]) as client:
        await client.get_prompt("greet", {"who": "Ann"})
        rendered = await client.call_tool("render_template", {"name": "greet", "arguments": {"who": "Bo"}})
        assert not rendered.is_error  # the burst of two renders, by either way of rendering
        with pytest.raises(MCPError) as caught:
            await client.get_prompt("greet", {"who": "Cy"})
        assert (await client.list_tools()).tools  # other requests are still served
    error = caught.value.error
    assert error.code == -32029
    assert error.message.startswith("rate limit exceeded: too many renders from this client; retry in ")
    assert isinstance(error.data, dict)
    assert error.data["limit"] == "renders"
    assert 4 < error.data["retryAfter"] <= 5  # 0.2 renders a second: the next one in up to 5 s


def test_a_client_sending_bad_tokens_is_slowed_down_by_its_address(served: Served) -> None:
    transport = httpx2.HTTPTransport(local_address="127.0.0.5")  # an address of its own: its bucket is its own
    with httpx2.Client(base_url=served.server.base, timeout=WAIT_SECONDS, transport=transport) as http:
        refused = flood(http, bearer("pbat_guess"))
    assert (refused.status_code, refused.headers["retry-after"]) == (429, "1")


# -- a server without PBA_TUNNEL_AUTH_TOKEN ---------------------------------------------------------------


async def test_on_loopback_clients_need_a_token_once_the_store_has_one(home: Path) -> None:
    service = await open_service(home)
    try:
        await service.create(GREET_SOURCE, name="greet")
    finally:
        await service.close()
    server = HttpServer(home, "--transport", "http")
    try:
        await anyio.to_thread.run_sync(server.wait_ready)
        async with httpx2.AsyncClient(base_url=server.base, timeout=WAIT_SECONDS) as http:
            assert (await http.post("/mcp", json=INITIALIZE, headers=HEADERS)).status_code == 200  # no token at all

            service = await open_service(home)
            try:
                _info, secret = await service.tokens.create("first", "read")
            finally:
                await service.close()
            with anyio.fail_after(WAIT_SECONDS):  # the server looks at most once a second
                while (await http.post("/mcp", json=INITIALIZE, headers=HEADERS)).status_code != 401:
                    await anyio.sleep(0.1)
            assert (await http.post("/mcp", json=INITIALIZE, headers=bearer(secret))).status_code == 200
    finally:
        server.stop()
