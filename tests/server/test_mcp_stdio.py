"""The real ``pba-tunnel serve`` on stdio: the SDK's stdio client, raw JSON-RPC lines, a broken store,
and a cache that notices writes by other processes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, MCPError
from mcp.types import PromptReference, TextContent, TextResourceContents
from mcp_server_support import (
    GREET_SOURCE,
    SPIN_SOURCE,
    WAIT_SECONDS,
    cli_in_thread,
    greet_source,
    is_jsonrpc,
    open_service,
    prepare_store,
    raw_stdio,
    stdio_server,
    template_file,
)

from pba_tunnel.server.app import INSTRUCTIONS, package_version

pytestmark = pytest.mark.anyio

INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603


def texts(result: Any) -> list[str]:
    """The text of every message of a prompts/get result."""
    out = []
    for message in result.messages:
        assert isinstance(message.content, TextContent)
        out.append(message.content.text)
    return out


@pytest.mark.parametrize(("mode", "version"), [("legacy", "2025-11-25"), ("auto", "2026-07-28")])
async def test_the_sdk_stdio_client_uses_every_feature(home: Path, mode: str, version: str) -> None:
    await prepare_store(home, {"greet": GREET_SOURCE})

    async with Client(stdio_server(home), mode=mode, cache=None) as client:
        assert client.protocol_version == version
        assert client.server_info is not None
        assert (client.server_info.name, client.server_info.version) == ("pba-tunnel", package_version())
        assert client.instructions == INSTRUCTIONS
        capabilities = client.server_capabilities
        assert capabilities.prompts is not None
        assert capabilities.prompts.list_changed is True
        assert capabilities.tools is not None
        assert capabilities.resources is not None
        assert capabilities.completions is not None

        assert [p.name for p in (await client.list_prompts()).prompts] == ["greet"]
        assert texts(await client.get_prompt("greet", {"who": "Ann"})) == ["Hello Ann!"]
        assert texts(await client.get_prompt("greet", {"who": "Bo"})) == ["Hello Bo!"]  # now from the cache
        with pytest.raises(MCPError) as caught:
            await client.get_prompt("greet", {})
        assert (caught.value.error.code, caught.value.error.message) == (
            INVALID_PARAMS,
            'template \'greet\' needs argument(s) who; pass them in arguments, e.g. {"who": "..."}',
        )

        rendered = await client.call_tool("render_template", {"name": "greet", "arguments": {"who": "Cy"}})
        assert rendered.is_error is False
        assert rendered.structured_content == {
            "name": "greet",
            "version": 1,
            "text": "Hello Cy!",
            "messages": [{"role": "user", "content": "Hello Cy!"}],
        }
        assert len((await client.list_tools()).tools) >= 11

        source = (await client.read_resource("template://greet")).contents
        assert [(c.mime_type, c.text) for c in source if isinstance(c, TextResourceContents)] == [
            ("text/markdown", GREET_SOURCE)
        ]
        completion = await client.complete(
            PromptReference(type="ref/prompt", name="greet"), {"name": "who", "value": ""}
        )
        assert completion.completion.values == ["Cy", "Bo", "Ann"]


PLAIN_SOURCE = "---\ndescription: No arguments.\n---\nversion {}\n"


async def add_second_version(home: Path) -> None:
    service = await open_service(home)
    try:
        await service.update("plain", PLAIN_SOURCE.format("two"))
    finally:
        await service.close()


def test_render_template_of_a_given_version_is_not_answered_from_the_current_version_cache(home: Path) -> None:
    anyio.run(prepare_store, home, {"plain": PLAIN_SOURCE.format("one")})
    anyio.run(add_second_version, home)

    with raw_stdio(home) as session:
        session.initialize()
        current = {"name": "render_template", "arguments": {"name": "plain"}}
        # the first call caches the current version; once the watcher has flushed its render event and seen
        # the store settle (two 0.2 s polls), cached renders are answered inside the pipe's read callback
        assert session.request("tools/call", current)["result"]["structuredContent"]["text"] == "version two"
        time.sleep(1.0)
        assert session.request("tools/call", current)["result"]["structuredContent"]["text"] == "version two"
        first = {"name": "render_template", "arguments": {"name": "plain", "version": 1}}
        assert session.request("tools/call", first)["result"]["structuredContent"] == {
            "name": "plain",
            "version": 1,
            "text": "version one",
            "messages": [{"role": "user", "content": "version one"}],
        }


@pytest.mark.parametrize("transport", ["auto", "portable"])
def test_a_whole_raw_session_writes_only_json_rpc_lines_even_when_renders_fail(home: Path, transport: str) -> None:
    anyio.run(prepare_store, home, {"greet": GREET_SOURCE, "spin": SPIN_SOURCE})

    with raw_stdio(home, transport=transport, PBA_TUNNEL_MAX_RENDER_SECONDS="0.2") as session:
        init = session.initialize()
        assert init["protocolVersion"] == "2025-11-25"
        assert init["serverInfo"]["name"] == "pba-tunnel"
        assert init["capabilities"]["prompts"] == {"listChanged": True}

        assert session.request("ping") == {"jsonrpc": "2.0", "id": 2, "result": {}}
        listed = session.request("prompts/list")["result"]
        assert [p["name"] for p in listed["prompts"]] == ["greet", "spin"]
        assert session.request("prompts/get", {"name": "greet", "arguments": {"who": "Ann"}})["result"] == {
            "description": "Greets someone.",
            "messages": [{"role": "user", "content": {"type": "text", "text": "Hello Ann!"}}],
        }
        assert session.request("prompts/get", {"name": "greet", "arguments": {}}) == {
            "jsonrpc": "2.0",
            "id": 5,
            "error": {
                "code": INVALID_PARAMS,
                "message": 'template \'greet\' needs argument(s) who; pass them in arguments, e.g. {"who": "..."}',
                "data": {"reason": "missing_arguments"},
            },
        }
        assert session.request("prompts/get", {"name": "spin"}) == {
            "jsonrpc": "2.0",
            "id": 6,
            "error": {
                "code": INTERNAL_ERROR,
                "message": "rendering took longer than 0.2 s (set PBA_TUNNEL_MAX_RENDER_SECONDS to allow more)",
                "data": {"reason": "render_timeout"},
            },
        }
        assert session.request("tools/call", {"name": "render_template", "arguments": {"name": "spin"}}) == {
            "jsonrpc": "2.0",
            "id": 7,
            "result": {
                "_meta": {
                    "pba-tunnel/code": "render_timeout"
                },  # the stable code, for programs (the text is for people)
                "content": [
                    {
                        "type": "text",
                        "text": "render_template failed: rendering took longer than 0.2 s "
                        "(set PBA_TUNNEL_MAX_RENDER_SECONDS to allow more)",
                    }
                ],
                "isError": True,
            },
        }
        # the server still works after the failures, and after a line that is not JSON at all
        session.send("this is not JSON-RPC")
        assert session.request("prompts/get", {"name": "greet", "arguments": {"who": "Bo"}})["result"] == {
            "description": "Greets someone.",
            "messages": [{"role": "user", "content": {"type": "text", "text": "Hello Bo!"}}],
        }
        assert session.request("prompts/get", {"name": "nope"})["error"] == {
            "code": INVALID_PARAMS,
            "message": "Unknown prompt 'nope': no template named 'nope'; "
            "call prompts/list or the search_templates tool to find the names",
            "data": {"reason": "not_found"},
        }
        assert session.request("templates/explode")["error"] == {
            "code": -32601,
            "message": "Method not found",
            "data": "templates/explode",
        }
        contents = session.request("resources/read", {"uri": "template://greet"})["result"]["contents"]
        assert contents == [{"uri": "template://greet", "mimeType": "text/markdown", "text": GREET_SOURCE}]
        last_id = 11

    assert session.process.returncode == 0
    assert session.lines, "no output at all"
    assert [line for line in session.lines if not is_jsonrpc(line)] == []
    # one response per request, and a parse error (id null) for the line that was not JSON; nothing else
    assert len(session.lines) == last_id + 1
    parse_errors = [json.loads(line) for line in session.lines if b'"id":null' in line]
    assert parse_errors == [
        {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error: the line is not JSON"}}
    ]


def broken_store(home: Path, kind: str) -> Path:
    if kind == "directory":
        return home
    path = home / "templates.db"
    path.write_text("these are my notes, not a database\n" * 200, encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", ["text-file", "directory"])
def test_an_unusable_store_still_answers_initialize_then_explains_every_request(home: Path, kind: str) -> None:
    store = broken_store(home, kind)

    with raw_stdio(home, "--database-url", f"sqlite+aiosqlite:///{store}") as session:
        init = session.initialize()
        assert init["serverInfo"]["name"] == "pba-tunnel"
        assert session.request("ping")["result"] == {}

        for method, params in [
            ("prompts/list", None),
            ("prompts/get", {"name": "greet", "arguments": {"who": "Ann"}}),
            ("resources/read", {"uri": "templates://index"}),
            (
                "completion/complete",
                {"ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "who", "value": ""}},
            ),
        ]:
            error = session.request(method, params)["error"]
            assert error["code"] == INTERNAL_ERROR, method
            assert error["message"].startswith("template store unavailable: "), error
            assert str(store) in error["message"]
            assert error["message"].endswith("(the server tries again every 5 s)")
            assert error["data"] == {"reason": "store_error"}

        tool = session.request("tools/call", {"name": "list_templates", "arguments": {}})["result"]
        assert tool["isError"] is True
        assert tool["content"][0]["text"].startswith(f"list_templates failed: the store {store}")
        assert session.request("ping")["result"] == {}  # and it is still there

    assert session.process.returncode == 0
    assert [line for line in session.lines if not is_jsonrpc(line)] == []
    assert "template store unavailable" in session.stderr()


async def test_the_cache_notices_every_write_by_another_process(home: Path) -> None:
    """A long-running server renders from memory; the CLI changes the store; the very next answer is new."""
    await prepare_store(home, {"greet": GREET_SOURCE})

    async with Client(stdio_server(home), mode="legacy", cache=None) as client:

        async def greeting() -> list[str]:
            return texts(await client.get_prompt("greet", {"who": "Ann"}))

        async def tool_greeting() -> str | None:
            result = await client.call_tool("render_template", {"name": "greet", "arguments": {"who": "Ann"}})
            return None if result.structured_content is None else result.structured_content["text"]

        async def source() -> str:
            contents = (await client.read_resource("template://greet")).contents
            assert isinstance(contents[0], TextResourceContents)
            return contents[0].text

        assert await greeting() == ["Hello Ann!"]
        assert await greeting() == ["Hello Ann!"]  # answered from memory
        assert await tool_greeting() == "Hello Ann!"

        path = template_file(home, "greet", greet_source("Good morning"))
        result = await cli_in_thread(home, "import", str(path))
        assert (result.returncode, result.stdout) == (0, "added 0, updated 1, unchanged 0, failed 0\n")
        assert await greeting() == ["Good morning Ann!"]
        assert await tool_greeting() == "Good morning Ann!"
        assert await source() == greet_source("Good morning")

        result = await cli_in_thread(home, "rollback", "greet", "1")
        assert (result.returncode, result.stdout) == (0, "greet is now at version 3 (same content as version 1)\n")
        assert await tool_greeting() == "Hello Ann!"  # the tool first this time: it has its own fast path
        assert await greeting() == ["Hello Ann!"]

        result = await cli_in_thread(home, "delete", "greet")
        assert (result.returncode, result.stdout) == (0, "deleted greet\n")
        with pytest.raises(MCPError) as caught:
            await greeting()
        assert caught.value.error.code == INVALID_PARAMS
        assert caught.value.error.message == (
            "Unknown prompt 'greet': template 'greet' is deleted; the restore_template tool brings it back"
        )


def test_a_server_whose_store_could_not_open_recovers_once_it_can(home: Path) -> None:
    """Like a store created on a full disk: once the cause is gone, the running server opens it by itself."""
    store = broken_store(home, "text-file")

    with raw_stdio(home, "--database-url", f"sqlite+aiosqlite:///{store}") as session:
        session.initialize()
        error = session.request("prompts/list")["error"]
        assert (error["code"], error["data"]) == (INTERNAL_ERROR, {"reason": "store_error"})

        store.unlink()  # the cause goes away (space freed, the file put back, ...)
        deadline = time.monotonic() + WAIT_SECONDS
        while "error" in (answer := session.request("prompts/list")) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert answer["result"]["prompts"] == []  # a new, empty (unseeded) store
    assert [line for line in session.lines if not is_jsonrpc(line)] == []


def test_a_store_path_the_file_system_refuses_is_an_error_not_a_crash(home: Path) -> None:
    blocker = home / "not-a-folder"
    blocker.write_text("a file where the store's folder should be\n", encoding="utf-8")

    with raw_stdio(home, "--database-url", f"sqlite+aiosqlite:///{blocker}/templates.db") as session:
        session.initialize()
        for _ in range(2):
            error = session.request("prompts/list")["error"]
            assert (error["code"], error["data"]) == (INTERNAL_ERROR, {"reason": "store_error"})
        assert session.request("ping")["result"] == {}
    assert session.process.returncode == 0
