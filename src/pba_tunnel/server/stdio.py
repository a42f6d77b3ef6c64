"""stdio transport: an asyncio pipe reader, a direct writer, and a fast path for hot read-only requests.

The SDK's stdio transport moves every line through worker threads (~260 µs a request) and its dispatch adds
~200 µs more. Here lines are read from the pipe by the event loop; once a handshake-era session is
initialized, ``prompts/get``, ``prompts/list``, read-only ``tools/call`` and the other read requests are
answered directly by the same handler functions the SDK dispatch calls. Everything else (initialize,
writes, notifications, the 2026-07-28 era) goes through the SDK unchanged.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import mcp.types as types
from mcp import MCPError
from mcp.shared._context_streams import create_context_streams
from mcp.shared.message import SessionMessage

from .app import McpApp
from .errors import INTERNAL_ERROR, error_response
from .tools import READ_ONLY_TOOLS

MAX_LINE = 64 * 1024 * 1024
FastHandler = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]


def _claim_stdio() -> tuple[int, int]:
    """Take private copies of fds 0 and 1; point fd 1 at stderr so stray prints cannot corrupt the wire."""
    wire_in = os.dup(0)
    wire_out = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return wire_in, wire_out


class FastPath:
    """Answers hot read-only requests without the SDK's dispatch; returns None to hand a request on."""

    def __init__(self, app: McpApp) -> None:
        h = app.handlers
        self._routes: dict[str, FastHandler] = {
            "ping": self._ping,
            "prompts/get": lambda p: h.get_prompt(str(p.get("name", "")), p.get("arguments")),
            "prompts/list": lambda p: h.list_prompts(p.get("cursor")),
            "tools/list": lambda _p: h.list_tools(),
            "tools/call": self._call_tool,
            "resources/read": lambda p: h.read_resource(str(p.get("uri", ""))),
        }
        self._handlers = h

    async def _ping(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {}

    async def _call_tool(self, params: dict[str, Any]) -> dict[str, Any] | None:
        name = params.get("name")
        if name not in READ_ONLY_TOOLS:
            return None  # writes go through the SDK (and its notifications)
        return await self._handlers.call_tool(str(name), params.get("arguments"))

    async def answer(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """The JSON-RPC response for ``message``, or None when the SDK should handle it."""
        route = self._routes.get(message.get("method", ""))
        params = message.get("params") or {}
        if route is None or not isinstance(params, dict) or "id" not in message:
            return None
        try:
            result = await route(params)
        except MCPError as exc:
            return error_response(message["id"], exc)
        except Exception as exc:  # same contract as the SDK: an error response, never a dead connection
            return error_response(message["id"], MCPError(code=INTERNAL_ERROR, message=f"internal error: {exc}"))
        if result is None:
            return None
        return {"jsonrpc": "2.0", "id": message["id"], "result": result}


async def serve_stdio(app: McpApp) -> None:
    """Serve one MCP connection on this process's stdin/stdout until stdin closes."""
    wire_in, wire_out = _claim_stdio()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_LINE)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(wire_in, "rb", 0))
    out = os.fdopen(wire_out, "wb", 0)

    def write(data: bytes) -> None:
        view = memoryview(data)
        while view:  # a blocking write of whole lines keeps frames from interleaving
            written = out.write(view)
            view = view[written or 0 :]

    to_sdk, sdk_reads = create_context_streams[SessionMessage | Exception](0)
    sdk_writes, from_sdk = create_context_streams[SessionMessage](0)
    fast = FastPath(app)

    async def read_lines() -> None:
        handshake_done = False
        async with to_sdk:
            while line := await reader.readline():
                if handshake_done and b'"method"' in line:
                    try:
                        message = json.loads(line)
                    except ValueError:
                        message = None
                    if isinstance(message, dict):
                        response = await fast.answer(message)
                        if response is not None:
                            write(json.dumps(response, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
                            continue
                try:
                    parsed = types.jsonrpc_message_adapter.validate_json(line, by_name=False)
                except Exception as exc:
                    await to_sdk.send(exc)
                    continue
                if not handshake_done and getattr(parsed, "method", None) == "notifications/initialized":
                    handshake_done = True  # only handshake-era sessions send this; 2026-07-28 ones stay on the SDK
                await to_sdk.send(SessionMessage(parsed))

    async def write_lines() -> None:
        async with from_sdk:
            async for session_message in from_sdk:
                text = session_message.message.model_dump_json(by_alias=True, exclude_unset=True)
                write(text.encode() + b"\n")

    async with app.notifier.watching(), anyio.create_task_group() as group:
        group.start_soon(write_lines)
        group.start_soon(read_lines)
        await app.server.run(sdk_reads, sdk_writes, app.initialization_options())
        group.cancel_scope.cancel()
