"""Stateful streamable HTTP answered, session by session, the cheaper way that loses nothing.

An SSE stream per request costs over twice the server CPU of a JSON body (``--suite http``, 50 clients: about
1.4 against 0.6 ms). A JSON body carries only the response, so a request the server sends back during a call has
no way to the client: here that is ``sampling/createMessage`` from ``enhance_template`` to a handshake-era client
that declared the sampling capability. So two SDK session managers serve ``/mcp``, both through the SDK's own
dispatch: one answers with JSON bodies, the other with resumable SSE streams. :class:`ByClient` sends a new session
to the stream manager when its ``initialize`` declares sampling, else to the JSON one, and every later request of a
session to the manager that holds it (by ``Mcp-Session-Id``). A request without a session that is no
``initialize`` (2026-07-28 clients, which are never asked mid-call) goes to the JSON manager, which still streams
``subscriptions/listen``.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from mcp.server.streamable_http import GET_STREAM_KEY
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE, RequestBodyLimitMiddleware
from starlette.types import Message, Receive, Scope, Send

from .batches import read_body, replaying
from .event_store import SESSION_HEADER, MemoryEventStore

STREAMED_GET_ONLY = frozenset({GET_STREAM_KEY})  # a JSON session's only stream: the one it opens with GET


def declares_sampling(body: bytes) -> bool:
    """True when ``body`` is an ``initialize`` request whose client declares the sampling capability."""
    if b'"initialize"' not in body:  # most bodies: no need to parse them
        return False
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        return False  # the SDK words the refusal
    if not isinstance(message, dict) or message.get("method") != "initialize":
        return False
    params = message.get("params")
    capabilities = params.get("capabilities") if isinstance(params, dict) else None
    return isinstance(capabilities, dict) and capabilities.get("sampling") is not None


class ByClient:
    """Routes each stateful session to the JSON manager or, for a client that may be asked to sample, the stream
    manager; see the module docstring."""

    def __init__(
        self,
        json_manager: StreamableHTTPSessionManager,
        stream_manager: StreamableHTTPSessionManager,
        *,
        remembered: int,
        max_body_size: int = DEFAULT_MAX_REQUEST_BODY_SIZE,
    ) -> None:
        self.json_manager = json_manager
        self.stream_manager = stream_manager
        # Sessions answered with streams, least recently used first. The SDK says nobody when it ends an idle
        # one, so ended ones are forgotten when their client deletes them, when the SDK answers 404 for them, or
        # beyond ``remembered`` (several times the sessions the SDK keeps).
        self.remembered = remembered
        self._streamed: OrderedDict[bytes, None] = OrderedDict()
        self._opening = RequestBodyLimitMiddleware(self._open, max_body_size)  # bounded before it is buffered

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session = dict(scope["headers"]).get(SESSION_HEADER)
        if session is None:
            if scope["method"] == "POST":
                await self._opening(scope, receive, send)
            else:
                await self.json_manager.handle_request(scope, receive, send)  # the SDK refuses it
            return
        if session not in self._streamed:
            await self.json_manager.handle_request(scope, receive, send)
            return
        self._streamed.move_to_end(session)

        async def watching_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 404:
                self._streamed.pop(session, None)  # the SDK no longer knows it
            await send(message)

        await self.stream_manager.handle_request(scope, receive, watching_send)
        if scope["method"] == "DELETE":
            self._streamed.pop(session, None)

    async def _open(self, scope: Scope, receive: Receive, send: Send) -> None:
        consumed, body = await read_body(receive)
        if not declares_sampling(body):
            await self.json_manager.handle_request(scope, replaying(consumed, receive), send)
            return

        async def noting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                for name, value in message.get("headers", ()):
                    if name.lower() == SESSION_HEADER:
                        self._streamed[value] = None
                        while len(self._streamed) > self.remembered:
                            self._streamed.popitem(last=False)
            await send(message)

        await self.stream_manager.handle_request(scope, replaying(consumed, receive), noting_send)


def answer_managers(server: Any, **options: Any) -> tuple[StreamableHTTPSessionManager, StreamableHTTPSessionManager]:
    """The JSON manager (its events kept only for the GET stream) and the stream manager, with ``options``."""
    return (
        StreamableHTTPSessionManager(
            app=server, json_response=True, event_store=MemoryEventStore(streams=STREAMED_GET_ONLY), **options
        ),
        StreamableHTTPSessionManager(app=server, json_response=False, event_store=MemoryEventStore(), **options),
    )


@asynccontextmanager
async def running(*managers: StreamableHTTPSessionManager) -> AsyncIterator[None]:
    """Every manager running, for as long as the app's lifespan."""
    async with AsyncExitStack() as stack:
        for manager in managers:
            await stack.enter_async_context(manager.run())
        yield
