"""Resumable streamable-HTTP streams: recent events kept in memory, replayed to a client that reconnects.

The SDK defines the interface (``EventStore``) and does the rest: it numbers each SSE event with the id we
return, sends a priming event and a ``retry`` interval, and on a GET with ``Last-Event-ID`` asks us for what
followed. Bounded: a few hundred events per stream and a few thousand in all, oldest forgotten first.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, deque

from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp.types import JSONRPCMessage

EVENTS_PER_STREAM = 256
MAX_EVENTS = 4096


class MemoryEventStore(EventStore):
    """The last ``EVENTS_PER_STREAM`` events of each stream, ``MAX_EVENTS`` in all."""

    def __init__(self, *, per_stream: int = EVENTS_PER_STREAM, total: int = MAX_EVENTS) -> None:
        self.per_stream = per_stream
        self.total = total
        self._streams: OrderedDict[StreamId, deque[tuple[int, JSONRPCMessage | None]]] = OrderedDict()
        self._stream_of: dict[int, StreamId] = {}
        self._numbers = itertools.count(1)
        self._count = 0

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        """Keep one event; its id is a number that grows across all streams."""
        number = next(self._numbers)
        events = self._streams.setdefault(stream_id, deque())
        self._streams.move_to_end(stream_id)
        events.append((number, message))
        self._stream_of[number] = stream_id
        self._count += 1
        if len(events) > self.per_stream:
            self._drop(events.popleft()[0])
        while self._count > self.total:
            oldest_stream, oldest = next(iter(self._streams.items()))
            self._drop(oldest.popleft()[0])
            if not oldest:
                del self._streams[oldest_stream]
        return str(number)

    def _drop(self, number: int) -> None:
        self._stream_of.pop(number, None)
        self._count -= 1

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        """Send every event of the same stream after ``last_event_id``; None when that event is forgotten."""
        try:
            number = int(last_event_id)
        except ValueError:
            return None
        stream_id = self._stream_of.get(number)
        if stream_id is None:
            return None
        for event_number, message in list(self._streams.get(stream_id, ())):
            if event_number > number and message is not None:
                await send_callback(EventMessage(message, str(event_number)))
        return stream_id
