"""One protocol path: the same request gets the same answer on every transport.

A corpus of raw JSON-RPC requests (valid ones and every kind of bad one) is sent over stdio (the Unix pipe
transport and the portable SDK transport), streamable HTTP (stateful and stateless), SSE and the in-memory
transport, each against its own copy of one store; every response must be identical, error codes included.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
import pytest
from mcp import StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.message import SessionMessage
from mcp_server_support import (
    GREET_SOURCE,
    REVIEW_SOURCE,
    WAIT_SECONDS,
    HttpServer,
    greet_source,
    open_service,
    server_env,
    serving,
)

pytestmark = pytest.mark.anyio

BIG = "x" * (200 * 1024)  # above the default argument limit (100 KiB)
GREET = {"type": "ref/prompt", "name": "greet"}

# (label, method, params): what a client may send, right or wrong.
CORPUS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("ping", "ping", None),
    ("unknown method", "templates/explode", {}),
    ("list prompts", "prompts/list", None),
    ("list prompts, empty params", "prompts/list", {}),
    ("list prompts, bad cursor", "prompts/list", {"cursor": "not-a-cursor"}),
    ("list prompts, empty cursor", "prompts/list", {"cursor": ""}),
    ("list prompts, cursor of wrong type", "prompts/list", {"cursor": 5}),
    ("get prompt", "prompts/get", {"name": "greet", "arguments": {"who": "Ann"}}),
    (
        "get prompt, every argument",
        "prompts/get",
        {"name": "code-review", "arguments": {"language": "go", "code": "x := 1", "focus": "security", "tone": "calm"}},
    ),
    (
        "get prompt, defaults fill gaps",
        "prompts/get",
        {"name": "code-review", "arguments": {"language": "go", "code": "x"}},
    ),
    ("get prompt, one missing argument", "prompts/get", {"name": "code-review", "arguments": {"language": "go"}}),
    ("get prompt, every argument missing", "prompts/get", {"name": "code-review"}),
    ("get prompt, extra argument", "prompts/get", {"name": "greet", "arguments": {"who": "Ann", "mood": "glad"}}),
    (
        "get prompt, enum violated",
        "prompts/get",
        {"name": "code-review", "arguments": {"language": "go", "code": "x", "focus": "vibes"}},
    ),
    ("get prompt, arguments a string", "prompts/get", {"name": "greet", "arguments": "notadict"}),
    ("get prompt, arguments a list", "prompts/get", {"name": "greet", "arguments": ["who", "Ann"]}),
    ("get prompt, argument value a number", "prompts/get", {"name": "greet", "arguments": {"who": 7}}),
    ("get prompt, no name", "prompts/get", {"arguments": {"who": "Ann"}}),
    ("get prompt, empty name", "prompts/get", {"name": ""}),
    ("get prompt, name a number", "prompts/get", {"name": 12}),
    ("get prompt, unknown name", "prompts/get", {"name": "no-such-template"}),
    ("get prompt, a partial", "prompts/get", {"name": "_partials/sign-off"}),
    ("get prompt, a deleted template", "prompts/get", {"name": "gone"}),
    ("get prompt, oversized argument", "prompts/get", {"name": "greet", "arguments": {"who": BIG}}),
    ("get prompt, unicode argument", "prompts/get", {"name": "greet", "arguments": {"who": "Zoë 🌍"}}),
    ("get prompt, no params", "prompts/get", None),
    ("list tools", "tools/list", None),
    ("render", "tools/call", {"name": "render_template", "arguments": {"name": "greet", "arguments": {"who": "Bo"}}}),
    (
        "render, name/value pairs",
        "tools/call",
        {"name": "render_template", "arguments": {"name": "greet", "arguments": [{"name": "who", "value": "Bo"}]}},
    ),
    (
        "render, a pair given twice",
        "tools/call",
        {
            "name": "render_template",
            "arguments": {"name": "greet", "arguments": [{"name": "who", "value": "A"}, {"name": "who", "value": "B"}]},
        },
    ),
    ("render, empty name", "tools/call", {"name": "render_template", "arguments": {"name": ""}}),
    ("render, no name", "tools/call", {"name": "render_template", "arguments": {}}),
    ("render, no arguments at all", "tools/call", {"name": "render_template"}),
    ("render, unknown template", "tools/call", {"name": "render_template", "arguments": {"name": "nope"}}),
    ("render, missing argument", "tools/call", {"name": "render_template", "arguments": {"name": "greet"}}),
    (
        "render, version 1",
        "tools/call",
        {"name": "render_template", "arguments": {"name": "greet", "version": 1, "arguments": {"who": "V"}}},
    ),
    ("render, version 0", "tools/call", {"name": "render_template", "arguments": {"name": "greet", "version": 0}}),
    (
        "render, version 2^63",
        "tools/call",
        {"name": "render_template", "arguments": {"name": "greet", "version": 2**63}},
    ),
    (
        "render, version 99",
        "tools/call",
        {"name": "render_template", "arguments": {"name": "greet", "version": 99, "arguments": {"who": "V"}}},
    ),
    (
        "render, version a word",
        "tools/call",
        {"name": "render_template", "arguments": {"name": "greet", "version": "latest"}},
    ),
    (
        "render, arguments a string",
        "tools/call",
        {"name": "render_template", "arguments": {"name": "greet", "arguments": "who=Bo"}},
    ),
    ("render, unknown key", "tools/call", {"name": "render_template", "arguments": {"name": "greet", "colour": "red"}}),
    (
        "render, oversized argument",
        "tools/call",
        {"name": "render_template", "arguments": {"name": "greet", "arguments": {"who": BIG}}},
    ),
    ("tool arguments a list", "tools/call", {"name": "render_template", "arguments": ["greet"]}),
    ("tool name missing", "tools/call", {"arguments": {}}),
    ("unknown tool", "tools/call", {"name": "explode_templates", "arguments": {}}),
    ("search", "tools/call", {"name": "search_templates", "arguments": {"query": "review"}}),
    ("search, empty query", "tools/call", {"name": "search_templates", "arguments": {"query": ""}}),
    ("search, limit 0", "tools/call", {"name": "search_templates", "arguments": {"query": "greet", "limit": 0}}),
    (
        "search, hostile query",
        "tools/call",
        {"name": "search_templates", "arguments": {"query": '"unclosed AND (NEAR -* ^'}},
    ),
    ("list templates", "tools/call", {"name": "list_templates", "arguments": {}}),
    ("list templates, bad cursor", "tools/call", {"name": "list_templates", "arguments": {"cursor": "???"}}),
    ("list templates, limit too big", "tools/call", {"name": "list_templates", "arguments": {"limit": 100000}}),
    ("get template", "tools/call", {"name": "get_template", "arguments": {"name": "greet"}}),
    (
        "get template, huge version",
        "tools/call",
        {"name": "get_template", "arguments": {"name": "greet", "version": 10**30}},
    ),
    ("history", "tools/call", {"name": "template_history", "arguments": {"name": "greet"}}),
    ("history, unknown", "tools/call", {"name": "template_history", "arguments": {"name": "nope"}}),
    (
        "diff",
        "tools/call",
        {"name": "diff_template", "arguments": {"name": "greet", "from_version": 1, "to_version": 2}},
    ),
    (
        "diff, missing version",
        "tools/call",
        {"name": "diff_template", "arguments": {"name": "greet", "from_version": 1}},
    ),
    ("rollback, no version", "tools/call", {"name": "rollback_template", "arguments": {"name": "greet"}}),
    ("delete, unknown", "tools/call", {"name": "delete_template", "arguments": {"name": "nope"}}),
    (
        "create, malformed source",
        "tools/call",
        {"name": "create_template", "arguments": {"source": "---\nname: [unclosed\n---\nx"}},
    ),
    (
        "create, name taken",
        "tools/call",
        {"name": "create_template", "arguments": {"source": GREET_SOURCE, "name": "greet"}},
    ),
    (
        "update, stale expected_version",
        "tools/call",
        {"name": "update_template", "arguments": {"name": "greet", "source": GREET_SOURCE, "expected_version": 1}},
    ),
    ("list resources", "resources/list", None),
    ("list resource templates", "resources/templates/list", None),
    ("read index", "resources/read", {"uri": "templates://index"}),
    ("read template", "resources/read", {"uri": "template://greet"}),
    ("read version", "resources/read", {"uri": "template://greet@1"}),
    ("read missing version", "resources/read", {"uri": "template://greet@99"}),
    ("read version word", "resources/read", {"uri": "template://greet@latest"}),
    ("read unknown template", "resources/read", {"uri": "template://nope"}),
    ("read other scheme", "resources/read", {"uri": "other://thing"}),
    ("read uri a number", "resources/read", {"uri": 12}),
    ("read empty uri", "resources/read", {"uri": ""}),
    ("complete argument", "completion/complete", {"ref": GREET, "argument": {"name": "who", "value": "A"}}),
    (
        "complete enum",
        "completion/complete",
        {"ref": {"type": "ref/prompt", "name": "code-review"}, "argument": {"name": "focus", "value": "s"}},
    ),
    (
        "complete unknown prompt",
        "completion/complete",
        {"ref": {"type": "ref/prompt", "name": "nope"}, "argument": {"name": "x", "value": ""}},
    ),
    (
        "complete resource name",
        "completion/complete",
        {"ref": {"type": "ref/resource", "uri": "template://{name}"}, "argument": {"name": "name", "value": "gr"}},
    ),
    (
        "complete bad ref",
        "completion/complete",
        {"ref": {"type": "ref/nothing"}, "argument": {"name": "x", "value": ""}},
    ),
    ("set log level", "logging/setLevel", {"level": "debug"}),
    ("set bad log level", "logging/setLevel", {"level": "loud"}),
]

Streams = tuple[Any, Any]
Connect = Callable[[], AbstractAsyncContextManager[Streams]]


async def prepare(home: Path) -> None:
    """The store every transport serves a copy of: versions, a partial, a deleted template."""
    service = await open_service(home)
    try:
        await service.create(GREET_SOURCE, name="greet")
        await service.update("greet", greet_source("Hi"))
        await service.create(REVIEW_SOURCE, name="code-review")
        await service.create(GREET_SOURCE.replace("Greets someone.", "Soon gone."), name="gone")
        await service.delete("gone")
        await service.save(service.check_partial("_partials/sign-off", "Regards."), origin="test")
    finally:
        await service.close()


def copy_store(original: Path, home: Path) -> Path:
    """A fresh home holding a copy of ``original``'s store."""
    home.mkdir(parents=True)
    for item in original.iterdir():
        if item.is_file():
            shutil.copy2(item, home / item.name)
    return home


async def exchange(streams: Streams) -> list[dict[str, Any]]:
    """Initialize (2025-11-25), then send the corpus one request at a time; each response as JSON."""
    read, write = streams
    answers: list[dict[str, Any]] = []

    async def ask(request_id: int, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        await write.send(
            SessionMessage(types.JSONRPCRequest(jsonrpc="2.0", id=request_id, method=method, params=params))
        )
        with anyio.fail_after(WAIT_SECONDS):
            while True:
                item = await read.receive()
                if isinstance(item, Exception):
                    raise item
                message = item.message
                if isinstance(message, types.JSONRPCResponse | types.JSONRPCError) and message.id == request_id:
                    return message.model_dump(mode="json", by_alias=True, exclude_none=True)

    init = await ask(
        0,
        "initialize",
        {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "parity", "version": "1"}},
    )
    assert init["result"]["protocolVersion"] == "2025-11-25"
    await write.send(SessionMessage(types.JSONRPCNotification(jsonrpc="2.0", method="notifications/initialized")))
    for number, (_label, method, params) in enumerate(CORPUS, start=1):
        answers.append(await ask(number, method, params))
    return answers


def stdio_connect(home: Path, choice: str) -> Connect:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "pba_tunnel", "serve", "--stdio-transport", choice],
        env=server_env(home),
    )
    return lambda: stdio_client(params)


def memory_connect(home: Path) -> Connect:
    @asynccontextmanager
    async def connect() -> AsyncIterator[Streams]:
        service = await open_service(home)
        try:
            async with serving(service) as app, anyio.create_task_group() as group:
                to_server, server_reads = anyio.create_memory_object_stream[SessionMessage | Exception](10)
                server_writes, from_server = anyio.create_memory_object_stream[SessionMessage](10)
                group.start_soon(app.server.run, server_reads, server_writes, app.initialization_options())
                yield from_server, to_server
                group.cancel_scope.cancel()
        finally:
            await service.close()

    return connect


@asynccontextmanager
async def http_connect(home: Path, *options: str) -> AsyncIterator[Connect]:
    server = HttpServer(home, *options)
    try:
        await anyio.to_thread.run_sync(server.wait_ready)
        if "sse" in options:
            yield lambda: sse_client(f"{server.base}/sse")
        else:
            yield lambda: streamable_http_client(f"{server.base}/mcp")
    finally:
        server.stop()


def normalized(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer without what legitimately differs by connection (none of its content)."""
    answer = dict(answer)
    answer.pop("jsonrpc", None)
    return answer


async def test_every_transport_answers_the_corpus_identically(tmp_path: Path) -> None:
    assert len(CORPUS) >= 60
    original = tmp_path / "original"
    original.mkdir()
    await prepare(original)
    homes = {
        name: copy_store(original, tmp_path / name)
        for name in ("pipe", "portable", "http", "stateless", "sse", "memory")
    }

    answers: dict[str, list[dict[str, Any]]] = {}
    answers["memory"] = await exchange_over(memory_connect(homes["memory"]))
    if sys.platform != "win32":
        answers["stdio (unix pipe)"] = await exchange_over(stdio_connect(homes["pipe"], "auto"))
    answers["stdio (portable)"] = await exchange_over(stdio_connect(homes["portable"], "portable"))
    async with http_connect(homes["http"], "--transport", "http") as connect:
        answers["http"] = await exchange_over(connect)
    async with http_connect(homes["stateless"], "--transport", "http", "--stateless") as connect:
        answers["http stateless"] = await exchange_over(connect)
    async with http_connect(homes["sse"], "--transport", "sse") as connect:
        answers["sse"] = await exchange_over(connect)

    reference = answers["memory"]
    for transport, got in answers.items():
        for (label, _method, _params), expected, actual in zip(CORPUS, reference, got, strict=True):
            assert normalized(actual) == normalized(expected), f"{transport} answers {label!r} differently"

    # The corpus holds every kind of answer: results, tool errors and protocol errors with the right codes.
    by_label = {label: answer for (label, _m, _p), answer in zip(CORPUS, reference, strict=True)}
    assert by_label["get prompt"]["result"]["messages"][0]["content"]["text"] == "Hi Ann!"
    assert by_label["unknown method"]["error"]["code"] == types.METHOD_NOT_FOUND
    for label in (
        "list prompts, bad cursor",
        "get prompt, one missing argument",
        "get prompt, arguments a string",
        "get prompt, unknown name",
        "get prompt, a partial",
        "get prompt, a deleted template",
        "get prompt, oversized argument",
        "get prompt, extra argument",
        "read uri a number",
    ):
        assert by_label[label]["error"]["code"] == types.INVALID_PARAMS, label
    for label in ("read unknown template", "read other scheme", "read missing version"):
        assert by_label[label]["error"]["code"] == -32002, label
    for label in ("render, empty name", "render, version 2^63", "get template, huge version", "unknown tool"):
        assert by_label[label]["result"]["isError"] is True, label
    assert by_label["render, name/value pairs"]["result"]["structuredContent"]["text"] == "Hi Bo!"


async def exchange_over(connect: Connect) -> list[dict[str, Any]]:
    async with connect() as streams:
        return await exchange(streams)
