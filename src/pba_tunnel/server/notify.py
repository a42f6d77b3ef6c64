"""``notifications/prompts/list_changed`` for every connected client, whoever changed the store.

Handshake-era sessions are remembered by a middleware and told directly; 2026-07-28 clients hear it on
their ``subscriptions/listen`` stream through the subscription bus. A watcher polls the store's change
token (a few µs) so writes by the CLI or another server process are noticed too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import structlog
from mcp.server.connection import Connection
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, PromptsListChanged, ResourcesListChanged
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from .slot import ServiceSlot

log = structlog.get_logger(__name__)
POLL_SECONDS = 0.2


class ChangeNotifier:
    """Tells connected clients that the list of prompts (and resources) changed."""

    def __init__(self, slot: ServiceSlot) -> None:
        self.slot = slot
        self.bus = InMemorySubscriptionBus()
        # One session per live connection. The SDK builds a new ServerSession for every request, so a weak
        # reference to one dies with its request; the Connection lasts, and its exit stack forgets it on close.
        self._sessions: dict[Connection, ServerSession] = {}
        self._notified_generation: int | None = None

    async def middleware(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """Remember every handshake-era session that talks to us."""
        if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            self.remember(ctx.session)
        return await call_next(ctx)

    def remember(self, session: ServerSession) -> None:
        """Keep a session of its connection until that connection closes."""
        connection = session._connection  # the SDK exposes no public way from a request to its connection
        if connection not in self._sessions:
            self._sessions[connection] = session
            connection.exit_stack.callback(self._sessions.pop, connection, None)

    async def check(self) -> None:
        """Notify once per change of the store's generation (by this process or any other)."""
        service = self.slot.opened
        if service is None:
            return
        if self._notified_generation is None:
            # What the store was when the service opened (before any request read it): a change made after
            # that, even before this first look, is a change clients must hear of.
            self._notified_generation = service.generation
        await service.sync_changes()
        generation = service.generation
        if generation == self._notified_generation:
            return
        self._notified_generation = generation
        await self.broadcast()

    async def broadcast(self) -> None:
        """Send list_changed to every live session and publish it for listen streams."""
        for connection, session in list(self._sessions.items()):
            try:
                await session.send_prompt_list_changed()
                await session.send_resource_list_changed()
            except Exception as exc:  # a closed session must not stop the others from hearing
                log.debug("dropping session after failed notification", error=str(exc))
                self._sessions.pop(connection, None)
        await self.bus.publish(PromptsListChanged())
        await self.bus.publish(ResourcesListChanged())

    @asynccontextmanager
    async def watching(self, poll_seconds: float = POLL_SECONDS) -> AsyncIterator[None]:
        """Poll for changes (and flush render events) while the body runs; stop between polls, never mid-query."""
        stop = anyio.Event()

        async def watch() -> None:
            while not stop.is_set():
                try:
                    await self.check()
                    if self.slot.opened is not None:
                        await self.slot.opened.flush_events()
                except Exception as exc:  # the store may be briefly unreachable; keep watching
                    log.warning("change watcher could not read the store", error=str(exc))
                with anyio.move_on_after(poll_seconds):
                    await stop.wait()

        async with anyio.create_task_group() as group:
            group.start_soon(watch)
            try:
                yield
            finally:
                stop.set()
