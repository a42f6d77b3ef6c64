"""stdio: one MCP connection over this process's stdin and stdout, through the SDK's dispatch.

Two transports move the bytes; neither answers a request itself:
- the SDK's ``stdio_server()``: worker threads over the standard streams, so it works everywhere (Windows, a
  regular file or a terminal on stdin), given a stdin that bounds the length of a line (``stdio_lines``);
- on Unix, when stdin is a pipe or a socket, ``stdio_unix.pipe_stdio_server()``: the event loop reads the pipe
  itself, which saves two thread hand-offs a message.
``stdio_transport`` picks one. Both only frame lines into ``SessionMessage`` objects; what the server answers is
decided by the same ``Server.run`` either way.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Literal

import anyio
import mcp.types as types
import structlog
from mcp.shared.message import SessionMessage

from .app import McpApp
from .stdio_lines import bounded_stdin, claimed_stdin

log = structlog.get_logger(__name__)

OPEN_STORE_AFTER_SECONDS = 1.0  # open the store anyway if no client request arrives by then
QUEUED_LINE_SECONDS = 0.05  # a line already in the pipe reaches us well within this
DRAIN_SECONDS = 60.0  # at the end of input, how long requests still running may take to be answered
StdioChoice = Literal["auto", "portable"]
Streams = tuple[Any, Any]
StreamsFactory = Callable[[], AbstractAsyncContextManager[Streams]]


def stdio_transport(choice: StdioChoice = "auto") -> tuple[str, StreamsFactory]:
    """The transport to serve stdio with, and its name: the Unix pipe transport where it is safe, else the SDK's."""
    if choice == "auto" and sys.platform != "win32":
        from .stdio_unix import pipe_stdio_available, pipe_stdio_server

        if pipe_stdio_available():
            return "unix-pipe", pipe_stdio_server
    return "portable", portable_stdio_server


@asynccontextmanager
async def portable_stdio_server() -> AsyncIterator[Streams]:
    """The SDK's stdio transport, reading stdin one bounded line at a time (see ``stdio_lines``)."""
    from mcp.server.stdio import stdio_server

    with claimed_stdin() as source:
        async with stdio_server(stdin=bounded_stdin(source)) as streams:
            yield streams


class AnswerBook:
    """The write stream, noting the first message sent and which requests still await their answer.

    At the end of input (``serve < requests.jsonl``) the connection stays open until every request read has been
    answered: the SDK ends a connection's requests when its read stream closes, so that close waits here.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.first_sent = anyio.Event()
        self.waiting: set[types.RequestId] = set()
        self._answered = anyio.Event()

    def asked(self, message: SessionMessage) -> None:
        """Note a request read from the client (and forget one it cancelled: the SDK never answers those)."""
        wire = message.message
        if isinstance(wire, types.JSONRPCRequest):
            self.waiting.add(wire.id)
        elif isinstance(wire, types.JSONRPCNotification) and wire.method == "notifications/cancelled":
            cancelled = (wire.params or {}).get("requestId")
            if cancelled is not None:
                self.waiting.discard(cancelled)
                self._answered.set()

    async def all_answered(self) -> None:
        """Wait until no request read so far is unanswered."""
        while self.waiting:
            self._answered = anyio.Event()
            await self._answered.wait()

    async def send(self, item: SessionMessage) -> None:
        await self.inner.send(item)
        self.first_sent.set()
        if isinstance(item.message, types.JSONRPCResponse | types.JSONRPCError) and item.message.id is not None:
            self.waiting.discard(item.message.id)
            self._answered.set()

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def __aenter__(self) -> AnswerBook:
        await self.inner.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        result: bool | None = await self.inner.__aexit__(*exc_info)
        return result


@asynccontextmanager
async def relayed(read_stream: Any, book: AnswerBook) -> AsyncIterator[Any]:
    """The transport's read stream as the server should see it.

    - a line that is no JSON-RPC message is answered with a JSON-RPC error (the SDK's transports hand it on as an
      exception, which the dispatch only logs; JSON-RPC wants a reply with a null id, as HTTP gives one);
    - a 2026-07-28 opening request that the client already gave up on, because a handshake-era ``initialize``
      follows it before any answer went out, is dropped, so ``initialize`` opens the connection (clients such as
      the Vercel AI SDK probe with ``server/discover``, wait a second, then fall back to the handshake);
    - the end of input reaches the server only once every request read has been answered.
    """
    relay_in, relay_out = anyio.create_memory_object_stream[SessionMessage | Exception](0)

    async def forward(item: SessionMessage | Exception) -> None:
        if isinstance(item, Exception):
            await book.send(SessionMessage(framing_error(item)))
        else:
            book.asked(item)
            await relay_in.send(item)

    async def relay() -> None:
        async with relay_in, read_stream:
            opening = True
            async for item in read_stream:
                if opening and is_request(item):
                    opening = False
                    if not is_initialize(item):
                        follower = await queued_after(read_stream)
                        if follower is not None and is_initialize(follower):
                            log.info("the client fell back to the initialize handshake before its probe was answered")
                        else:
                            await forward(item)
                        if follower is None:
                            continue
                        item = follower
                await forward(item)
            with anyio.move_on_after(DRAIN_SECONDS):
                await book.all_answered()

    async with anyio.create_task_group() as group:
        group.start_soon(relay)
        yield relay_out
        group.cancel_scope.cancel()


def is_request(item: SessionMessage | Exception) -> bool:
    """True for a JSON-RPC request (not a notification, response or unreadable line)."""
    return isinstance(item, SessionMessage) and isinstance(item.message, types.JSONRPCRequest)


def is_initialize(item: SessionMessage | Exception) -> bool:
    """True for the handshake era's ``initialize`` request."""
    return is_request(item) and item.message.method == "initialize"  # type: ignore[union-attr]


async def queued_after(read_stream: Any) -> SessionMessage | Exception | None:
    """The next message if the client had already sent it (it arrives at once), else None."""
    with anyio.move_on_after(QUEUED_LINE_SECONDS):
        try:
            item: SessionMessage | Exception = await read_stream.receive()
        except anyio.EndOfStream:
            return None
        return item
    return None


def framing_error(exc: Exception) -> types.JSONRPCError:
    """The JSON-RPC error answering a line that could not be read as a message."""
    text = str(exc)
    not_json = "Invalid JSON" in text or "json_invalid" in text or "EOF while parsing" in text
    error = (
        types.ErrorData(code=types.PARSE_ERROR, message="Parse error: the line is not JSON")
        if not_json
        else types.ErrorData(code=types.INVALID_REQUEST, message="Invalid request: not a JSON-RPC 2.0 message")
    )
    return types.JSONRPCError(jsonrpc="2.0", id=None, error=error)


async def serve_stdio(app: McpApp, choice: StdioChoice = "auto") -> None:
    """Serve one MCP connection on stdin/stdout until stdin closes."""
    _name, transport = stdio_transport(choice)
    async with transport() as (read_stream, write_stream):
        book = AnswerBook(write_stream)

        async def open_after_handshake() -> None:
            # The first answer is initialize's: only then import and open the store (most of a cold start).
            with anyio.move_on_after(OPEN_STORE_AFTER_SECONDS):
                await book.first_sent.wait()
            await app.slot.open()

        async with (
            app.notifier.watching(),
            relayed(read_stream, book) as messages,
            anyio.create_task_group() as group,
        ):
            group.start_soon(open_after_handshake)
            await app.server.run(messages, book, app.initialization_options())
            group.cancel_scope.cancel()
