"""A deadline for receiving a request's headers, which uvicorn lacks: its keep-alive timer stops at the first byte,
so a client sending one header byte every few seconds, or nothing at all, would hold its connection for ever.

uvicorn builds its HTTP protocol from ``Config(http=...)``, which takes a protocol class. The class made here wraps
the one ``http="auto"`` resolves to (httptools when importable, else h11), forwards the ``asyncio.Protocol``
interface to it, and runs one timer: armed when a connection opens and when a request starts arriving on an idle
connection, stopped when the app is called for it (the headers are complete). Then the request is the app's: its
body has a deadline of its own (``BodyDeadline``) and a long response (an SSE stream, a slow tool call) is never cut.
On expiry the connection is closed.

The app call finds its connection without mapping addresses: uvicorn creates each request's task inside
``data_received``, or a pipelined request's inside the ``send`` that completes the previous response, and an
asyncio task runs in a copy of the context it was created in. So a ContextVar holds the connection around
``data_received`` and around each ``send``, and :class:`HeaderDeadlineLink`, the outermost ASGI app, reads it.
That needs uvicorn's ``reset_contextvars`` off, its default.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.auto import AutoHTTPProtocol

log = structlog.get_logger(__name__)

CONNECTION: ContextVar[HeaderDeadline | None] = ContextVar("pba_tunnel_http_connection", default=None)


class HeaderDeadline(asyncio.Protocol):
    """One HTTP connection: uvicorn's own protocol inside, and a deadline for each request's headers."""

    def __init__(self, seconds: float, inner: type[asyncio.Protocol], **uvicorn_options: Any) -> None:
        self.seconds = seconds
        self.inner = inner(**uvicorn_options)  # what uvicorn would have built: it passes config, states, loop
        self.transport: asyncio.BaseTransport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.in_app = False  # a request was handed to the app and its response is not complete yet
        self.bytes_in_app = False  # bytes came meanwhile: a body, or the next (pipelined) request
        self.requests = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """A new connection: its first request's headers are due within the deadline."""
        self.transport = transport
        self.inner.connection_made(transport)
        self.arm()

    def data_received(self, data: bytes) -> None:
        """Bytes from the client: on an idle connection they start a request, and its deadline."""
        if self.in_app:
            self.bytes_in_app = True
        elif self.timer is None:
            self.arm()
        token = CONNECTION.set(self)  # the request task uvicorn creates in here inherits it
        try:
            self.inner.data_received(data)
        finally:
            CONNECTION.reset(token)

    def eof_received(self) -> bool | None:
        """Forwarded: uvicorn decides whether to keep the transport half-open."""
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        """Forwarded, and no deadline is left running."""
        self.disarm()
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        """Forwarded: uvicorn's flow control."""
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        """Forwarded: uvicorn's flow control."""
        self.inner.resume_writing()

    def request_started(self) -> int:
        """The app was called for a request (its headers are complete); returns the request's number."""
        self.disarm()
        self.in_app = True
        self.bytes_in_app = False
        self.requests += 1
        return self.requests

    def response_done(self, request: int) -> None:
        """The response to ``request`` is complete: the connection is idle again, or a pipelined request waits."""
        if request != self.requests or not self.in_app:
            return  # a later request has started already, or this one was done before
        self.in_app = False
        if self.bytes_in_app:
            self.arm()  # the next request may have started arriving while the app ran

    def arm(self) -> None:
        """Start the deadline unless it runs already."""
        if self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(self.seconds, self.expire)

    def disarm(self) -> None:
        """Stop the deadline."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def expire(self) -> None:
        """The headers did not arrive in time: close the connection."""
        self.timer = None
        if self.transport is None or self.transport.is_closing():
            return
        peer = self.transport.get_extra_info("peername")
        log.warning(
            "closed an HTTP connection whose request headers did not arrive in time",
            client=peer[0] if isinstance(peer, tuple) else None,
            seconds=self.seconds,
        )
        self.transport.close()


def header_deadline_protocol(seconds: float, inner: type[asyncio.Protocol] | None = None) -> type[asyncio.Protocol]:
    """The protocol class for ``uvicorn.Config(http=...)``: ``inner`` (default: what ``http="auto"`` picks)
    with a deadline of ``seconds`` for each request's headers."""
    chosen = AutoHTTPProtocol if inner is None else inner

    class BoundHeaderDeadline(HeaderDeadline):
        def __init__(self, **uvicorn_options: Any) -> None:
            super().__init__(seconds, chosen, **uvicorn_options)

    return BoundHeaderDeadline


class HeaderDeadlineLink:
    """Outermost ASGI app: tells the request's connection (if it is a :class:`HeaderDeadline`) when the app takes
    the request and when its response is complete."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection = CONNECTION.get()
        if connection is None or scope["type"] != "http":
            await self.app(scope, receive, send)  # lifespan, or served by another protocol (tests, ASGI clients)
            return
        request = connection.request_started()

        async def tracked_send(message: Message) -> None:
            token = CONNECTION.set(connection)  # a pipelined request starts in here, from whichever task sends
            try:
                await send(message)
            finally:
                CONNECTION.reset(token)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                connection.response_done(request)

        token = CONNECTION.set(None)  # tasks the app starts (sessions, streams) need not keep the connection alive
        try:
            await self.app(scope, receive, tracked_send)
        finally:
            CONNECTION.reset(token)  # uvicorn may still answer (500) and start a pipelined request
            connection.response_done(request)  # no complete response: uvicorn answers 500 or drops the connection
