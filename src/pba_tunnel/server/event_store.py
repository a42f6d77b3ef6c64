"""Resumable streamable-HTTP streams: recent events kept in memory, replayed to a client that reconnects.

The SDK defines the interface (``EventStore``) and does the rest: it numbers each SSE event with the id we
return, sends a priming event and a ``retry`` interval, and on a GET with ``Last-Event-ID`` asks us for what
followed. The SDK names a stream by its request id alone, which every session reuses, so events are kept per
session: ``SessionScope`` notes which session each HTTP request belongs to, and a session is only ever replayed
its own events. Bounded: a few hundred events per stream, a few thousand and a few megabytes in all, oldest
forgotten first. Events are kept as the JSON they were sent as: a page of a thousand prompts is ~1 MB of
JSON but several times that as objects, and a server that kept every page as objects grew by ~150 MB
listing 100,000 templates.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, deque
from contextvars import ContextVar
from dataclasses import dataclass

from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp.types import JSONRPCMessage
from mcp_types import jsonrpc_message_adapter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

EVENTS_PER_STREAM = 256
MAX_EVENTS = 4096
MAX_BYTES = 16 * 1024 * 1024  # of kept events' JSON, in all
SESSION_HEADER = b"mcp-session-id"


@dataclass
class SessionNote:
    """The session an HTTP request belongs to; filled from the response when the request creates one."""

    id: str | None


# Set per HTTP request; the SDK's session task starts inside the initialize request, so it sees that note too.
CURRENT_SESSION: ContextVar[SessionNote | None] = ContextVar("pba_tunnel_http_session", default=None)


class SessionScope:
    """ASGI middleware that notes each request's MCP session for the event store."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(SESSION_HEADER)
        note = SessionNote(sent.decode("latin-1") if sent else None)

        async def noting_send(message: Message) -> None:
            if message["type"] == "http.response.start" and note.id is None:
                for name, value in message.get("headers", ()):
                    if name.lower() == SESSION_HEADER:
                        note.id = value.decode("latin-1")
            await send(message)

        token = CURRENT_SESSION.set(note)
        try:
            await self.app(scope, receive, noting_send)
        finally:
            CURRENT_SESSION.reset(token)


def current_session() -> str | None:
    """The MCP session of the request being served, when known."""
    note = CURRENT_SESSION.get()
    return None if note is None else note.id


StreamKey = tuple[str | None, StreamId]


class MemoryEventStore(EventStore):
    """The last ``EVENTS_PER_STREAM`` events of each stream of each session, ``MAX_EVENTS`` and ``MAX_BYTES`` in all.

    ``streams``: keep only the events of these streams (a session answered with JSON bodies can resume only the
    stream it opens with GET; its responses need not be serialised a second time and kept).
    """

    def __init__(
        self,
        *,
        per_stream: int = EVENTS_PER_STREAM,
        total: int = MAX_EVENTS,
        total_bytes: int = MAX_BYTES,
        streams: frozenset[StreamId] | None = None,
    ) -> None:
        self.streams = streams
        self.per_stream = per_stream
        self.total = total
        self.total_bytes = total_bytes
        self._streams: OrderedDict[StreamKey, deque[tuple[int, bytes | None]]] = OrderedDict()
        self._stream_of: dict[int, StreamKey] = {}
        self._numbers = itertools.count(1)
        self._count = 0
        self._bytes = 0

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        """Keep one event; its id is a number that grows across all streams."""
        number = next(self._numbers)
        if self.streams is not None and stream_id not in self.streams:
            return str(number)  # numbered like the rest, never replayed
        data = None if message is None else message.model_dump_json(by_alias=True, exclude_unset=True).encode()
        key = (current_session(), stream_id)
        events = self._streams.setdefault(key, deque())
        self._streams.move_to_end(key)
        events.append((number, data))
        self._stream_of[number] = key
        self._count += 1
        self._bytes += len(data or b"")
        if len(events) > self.per_stream:
            self._drop(events.popleft())
        while self._count > self.total or self._bytes > self.total_bytes:
            oldest_key, oldest = next(iter(self._streams.items()))
            self._drop(oldest.popleft())
            if not oldest:
                del self._streams[oldest_key]
        return str(number)

    def _drop(self, event: tuple[int, bytes | None]) -> None:
        self._stream_of.pop(event[0], None)
        self._count -= 1
        self._bytes -= len(event[1] or b"")

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        """Send every later event of the same stream; None when that event is forgotten or another session's."""
        try:
            number = int(last_event_id)
        except ValueError:
            return None
        key = self._stream_of.get(number)
        if key is None or key[0] is None or key[0] != current_session():
            return None
        for event_number, data in list(self._streams.get(key, ())):
            if event_number > number and data is not None:
                message = jsonrpc_message_adapter.validate_json(data, by_name=False)
                await send_callback(EventMessage(message, str(event_number)))
        return key[1]
