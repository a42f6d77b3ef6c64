"""stdio transport: the event loop reads the pipe itself, and hot read-only requests skip the SDK dispatch.

The SDK's stdio transport moves every line through worker threads (~260 µs a request) and its dispatch
adds ~200 µs more. Here a reader callback takes lines straight off the pipe. Once a handshake-era session
is initialized:
- ``prompts/get`` and ``render_template`` of a cached template are answered inside the callback, with no
  task switch at all (the common case for a client that uses its prompts);
- other read requests (``prompts/list``, ``resources/read``, read-only tools, ...) are answered by the
  same handler functions the SDK dispatch calls, without the SDK's per-request machinery.
Everything else (initialize, writes, notifications, the 2026-07-28 era) goes through the SDK unchanged.
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

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
OPEN_STORE_AFTER_SECONDS = 1.0  # open the store anyway if no client request arrives by then
READ_CHUNK = 1 << 16
FastHandler = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]
_EOF = b""


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


def _is_json(line: bytes) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def _encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


class FastPath:
    """Answers hot read-only requests without the SDK's dispatch; None hands a request on."""

    def __init__(self, app: McpApp) -> None:
        h = self._handlers = app.handlers
        self._routes: dict[str, FastHandler] = {
            "ping": self._ping,
            "prompts/get": lambda p: h.get_prompt(str(p.get("name", "")), p.get("arguments")),
            "prompts/list": lambda p: h.list_prompts(p.get("cursor")),
            "tools/list": lambda _p: h.list_tools(),
            "tools/call": self._call_tool,
            "resources/read": lambda p: h.read_resource(str(p.get("uri", ""))),
        }

    async def _ping(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {}

    async def _call_tool(self, params: dict[str, Any]) -> dict[str, Any] | None:
        name = params.get("name")
        if name not in READ_ONLY_TOOLS:
            return None  # writes go through the SDK (and its notifications)
        return await self._handlers.call_tool(str(name), params.get("arguments"))

    def answer_now(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """The response for a cached render, computed synchronously; None when it needs awaiting."""
        method, params = message.get("method"), message.get("params")
        if "id" not in message or not isinstance(params, dict):
            return None
        try:
            if method == "prompts/get":
                arguments = params.get("arguments")
                result = self._handlers.get_prompt_now(str(params.get("name", "")), arguments)
            elif method == "tools/call" and params.get("name") == "render_template":
                arguments = params.get("arguments")
                result = self._handlers.render_tool_now(arguments) if isinstance(arguments, dict) else None
            else:
                return None
        except MCPError as exc:
            return error_response(message["id"], exc)
        return None if result is None else {"jsonrpc": "2.0", "id": message["id"], "result": result}

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


class StdioConnection:
    """One MCP connection over a pair of pipe descriptors."""

    def __init__(self, app: McpApp, wire_in: int, wire_out: int) -> None:
        self.app = app
        self.fast = FastPath(app)
        self.wire_in = wire_in
        self.wire_out = wire_out
        self.handshake_done = False
        self._buffer = bytearray()
        self._pending: asyncio.Queue[bytes] = asyncio.Queue()
        self._in_flight = 0  # lines queued for the async path and not yet handled

    def write(self, data: bytes) -> None:
        """Write whole lines with blocking writes, so frames never interleave."""
        view = memoryview(data)
        while view:
            try:
                written = os.write(self.wire_out, view)
            except BlockingIOError:
                written = 0
            view = view[written:]

    def on_readable(self) -> None:
        """Reader callback: split lines; answer cached renders at once, queue everything else in order."""
        try:
            data = os.read(self.wire_in, READ_CHUNK)
        except BlockingIOError:
            return
        if not data:
            asyncio.get_running_loop().remove_reader(self.wire_in)
            self._pending.put_nowait(_EOF)
            return
        self._buffer += data
        while (end := self._buffer.find(b"\n")) >= 0:
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            if line.strip() and not self._answered_now(line):
                self._in_flight += 1
                self._pending.put_nowait(line)

    def _answered_now(self, line: bytes) -> bool:
        # Only while nothing is queued: an answer must not overtake an earlier request from the same client.
        if not self.handshake_done or self._in_flight or b'"method"' not in line:
            return False
        try:
            message = json.loads(line)
        except ValueError:
            return False
        response = self.fast.answer_now(message) if isinstance(message, dict) else None
        if response is None:
            return False
        self.write(_encode(response))
        return True

    async def process(self, to_sdk: Any) -> None:
        """Handle queued lines in order: the async fast path, else the SDK."""
        async with to_sdk:
            while (line := await self._pending.get()) is not _EOF:
                try:
                    await self._process_line(line, to_sdk)
                finally:
                    self._in_flight -= 1

    async def _process_line(self, line: bytes, to_sdk: Any) -> None:
        if self.handshake_done and b'"method"' in line:
            try:
                message = json.loads(line)
            except ValueError:
                message = None
            if isinstance(message, dict):
                response = await self.fast.answer(message)
                if response is not None:
                    self.write(_encode(response))
                    return
        try:
            parsed = types.jsonrpc_message_adapter.validate_json(line, by_name=False)
        except ValueError:
            # JSON-RPC wants an answer to a line that is not a message: an error with a null id.
            error = (
                MCPError(code=INVALID_REQUEST, message="Invalid request: not a JSON-RPC 2.0 message")
                if _is_json(line)
                else MCPError(code=PARSE_ERROR, message="Parse error: the line is not JSON")
            )
            self.write(_encode(error_response(None, error)))
            return
        if not self.handshake_done and getattr(parsed, "method", None) == "notifications/initialized":
            self.handshake_done = True  # only handshake-era sessions send this; 2026-07-28 ones stay on the SDK
        await to_sdk.send(SessionMessage(parsed))


async def serve_stdio(app: McpApp) -> None:
    """Serve one MCP connection on this process's stdin/stdout until stdin closes."""
    wire_in, wire_out = _claim_stdio()
    os.set_blocking(wire_in, False)
    connection = StdioConnection(app, wire_in, wire_out)
    to_sdk, sdk_reads = create_context_streams[SessionMessage | Exception](0)
    sdk_writes, from_sdk = create_context_streams[SessionMessage](0)
    first_answer = anyio.Event()

    async def write_lines() -> None:
        async with from_sdk:
            async for session_message in from_sdk:
                text = session_message.message.model_dump_json(by_alias=True, exclude_unset=True)
                connection.write(text.encode() + b"\n")
                first_answer.set()

    async def open_after_handshake() -> None:
        # The first answer is initialize's: only then import and open the store (most of a cold start).
        with anyio.move_on_after(OPEN_STORE_AFTER_SECONDS):
            await first_answer.wait()
        await app.slot.open()

    asyncio.get_running_loop().add_reader(wire_in, connection.on_readable)
    try:
        async with app.notifier.watching(), anyio.create_task_group() as group:
            group.start_soon(write_lines)
            group.start_soon(connection.process, to_sdk)
            group.start_soon(open_after_handshake)
            await app.server.run(sdk_reads, sdk_writes, app.initialization_options())
            group.cancel_scope.cancel()
    finally:
        asyncio.get_running_loop().remove_reader(wire_in)
