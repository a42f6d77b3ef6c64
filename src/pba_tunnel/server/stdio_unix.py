"""The Unix-only stdio transport: the event loop reads and writes the pipes itself (public asyncio APIs only).

Used only when ``pipe_stdio_available()`` says stdin and stdout are pipes or sockets on a Unix system; everywhere
else (Windows, a regular file or a terminal on stdin) the SDK's thread-based ``stdio_server()`` serves. It frames
lines exactly as the SDK's transport does (UTF-8 with replacement, one JSON-RPC message a line, a line that is no
message handed on as an exception) and adds only a bound on the length of a line.
"""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import mcp.types as types
from mcp.shared.message import SessionMessage

from .stdio_lines import MAX_LINE_BYTES, LineTooLongError

HIGH_WATER = 1 << 20
FLUSH_SECONDS = 5.0


def _is_pipe_or_socket(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def pipe_stdio_available() -> bool:
    """True on Unix when both stdin and stdout are pipes or sockets (what the event loop can watch)."""
    if sys.platform == "win32":
        return False
    return _is_pipe_or_socket(0) and _is_pipe_or_socket(1)


def _claim_stdio() -> tuple[int, int]:
    """Take private copies of fds 0 and 1; point fd 1 at stderr and fd 0 at the null device, so stray prints
    and child processes cannot touch the wire."""
    wire_in = os.dup(0)
    wire_out = os.dup(1)
    os.dup2(2, 1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return wire_in, wire_out


class _WriteFlow(asyncio.Protocol):
    """Back-pressure for the write pipe: writers wait while the transport's buffer is above its high-water mark."""

    def __init__(self) -> None:
        self.can_write = asyncio.Event()
        self.can_write.set()
        self.closed = asyncio.Event()

    def pause_writing(self) -> None:
        self.can_write.clear()

    def resume_writing(self) -> None:
        self.can_write.set()

    def connection_lost(self, _exc: Exception | None) -> None:
        self.closed.set()
        self.can_write.set()


def parse_line(line: bytes) -> SessionMessage | Exception:
    """One line as the SDK's stdio transport reads it: a message, or the exception that says why not."""
    try:
        text = line.decode("utf-8", errors="replace")
        return SessionMessage(types.jsonrpc_message_adapter.validate_json(text, by_name=False))
    except Exception as exc:
        return exc


async def _read_lines(reader: asyncio.StreamReader, sink: Any) -> None:
    async with sink:
        while True:
            try:
                line = await reader.readuntil(b"\n")
            except asyncio.IncompleteReadError as end:
                if end.partial.strip():
                    await sink.send(parse_line(end.partial))
                return
            except asyncio.LimitOverrunError:
                await sink.send(LineTooLongError())
                await _skip_line(reader)
                continue
            await sink.send(parse_line(line))


async def _skip_line(reader: asyncio.StreamReader) -> None:
    """Drop input up to and including the next newline."""
    while True:
        try:
            await reader.readuntil(b"\n")
            return
        except asyncio.LimitOverrunError as over:
            await reader.readexactly(over.consumed)
        except asyncio.IncompleteReadError:
            return


async def _write_lines(transport: asyncio.WriteTransport, flow: _WriteFlow, source: Any, done: anyio.Event) -> None:
    try:
        async with source:
            async for session_message in source:
                if flow.closed.is_set():
                    continue  # the client left; drain what the server still sends
                data = session_message.message.model_dump_json(by_alias=True, exclude_unset=True).encode() + b"\n"
                await flow.can_write.wait()
                transport.write(data)
    finally:
        done.set()


@asynccontextmanager
async def pipe_stdio_server() -> AsyncIterator[tuple[Any, Any]]:
    """The read and write streams of one MCP connection over the stdin and stdout pipes."""
    loop = asyncio.get_running_loop()
    wire_in, wire_out = _claim_stdio()
    reader = asyncio.StreamReader(limit=MAX_LINE_BYTES, loop=loop)
    read_transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader, loop=loop), os.fdopen(wire_in, "rb", buffering=0)
    )
    flow = _WriteFlow()
    write_transport, _ = await loop.connect_write_pipe(lambda: flow, os.fdopen(wire_out, "wb", buffering=0))
    write_transport.set_write_buffer_limits(high=HIGH_WATER)
    to_server, from_client = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    to_client, from_server = anyio.create_memory_object_stream[SessionMessage](0)
    written = anyio.Event()
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(_read_lines, reader, to_server)
            group.start_soon(_write_lines, write_transport, flow, from_server, written)
            try:
                yield from_client, to_client
            finally:
                # The server closed its write stream: let the writer finish, then stop reading.
                with anyio.move_on_after(FLUSH_SECONDS, shield=True):
                    await written.wait()
                group.cancel_scope.cancel()
    finally:
        # Let what was written reach the client before the pipe closes.
        with anyio.move_on_after(FLUSH_SECONDS, shield=True):
            while write_transport.get_write_buffer_size() and not flow.closed.is_set():
                await anyio.sleep(0.01)
        read_transport.close()
        write_transport.close()
