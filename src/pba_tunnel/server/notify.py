"""Change notifications for every connected client, whoever changed the store.

- ``notifications/prompts/list_changed`` (and the resources list) when any template changes;
- ``notifications/resources/updated`` for ``template://NAME`` URIs a client subscribed to.

Handshake-era clients are told through a session of their connection, kept in our own registry; 2026-07-28
clients hear it on their ``subscriptions/listen`` stream through the subscription bus. A watcher polls the store's
generation, so writes by the CLI or another server process are noticed too.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import mcp.types as types
import structlog
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.session import ServerSession
from mcp.server.subscriptions import (
    InMemorySubscriptionBus,
    ListenHandler,
    PromptsListChanged,
    ResourcesListChanged,
    ResourceUpdated,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from ..errors import NotFoundError, PbaError
from .handlers import parse_template_uri
from .slot import RETRY_SECONDS, ServiceSlot

log = structlog.get_logger(__name__)
POLL_SECONDS = 0.2
MAX_CONNECTIONS = 2048  # remembered handshake-era connections (the HTTP server allows 1,000 sessions at once)


class SessionRegistry:
    """One session per live handshake-era connection, built from public request data.

    The SDK makes a new ``ServerSession`` for every request, but all of a connection's sessions share the
    connection's ``client_params`` object, so its identity names the connection. Holding that object keeps its
    ``id`` from being reused while the entry lives. The SDK tells no one when a connection ends (sending to a
    closed one is silently dropped), so the registry keeps the most recently active ``MAX_CONNECTIONS`` and
    forgets the longest idle beyond that: more than the HTTP server's session limit, so live ones stay.
    """

    def __init__(self, limit: int = MAX_CONNECTIONS) -> None:
        self.limit = limit
        self._sessions: OrderedDict[int, tuple[Any, ServerSession]] = OrderedDict()

    @staticmethod
    def key(session: ServerSession) -> int | None:
        """The connection a session belongs to (None before the handshake)."""
        params = session.client_params
        return None if params is None else id(params)

    def remember(self, session: ServerSession) -> int | None:
        """Keep ``session`` for its connection; the connection's key."""
        params = session.client_params
        if params is None:
            return None
        entry = self._sessions.get(id(params))
        if entry is None or entry[0] is not params:
            self._sessions[id(params)] = (params, session)
            while len(self._sessions) > self.limit:
                self._sessions.popitem(last=False)
        else:
            self._sessions.move_to_end(id(params))
        return id(params)

    def items(self) -> list[tuple[int, ServerSession]]:
        """Every remembered connection and its session."""
        return [(key, session) for key, (_params, session) in self._sessions.items()]

    def forget(self, key: int) -> None:
        """Drop a connection that can no longer be reached."""
        self._sessions.pop(key, None)

    def __contains__(self, key: int) -> bool:
        return key in self._sessions

    def __len__(self) -> int:
        return len(self._sessions)


class ChangeNotifier:
    """Tells connected clients that templates changed: the lists, and each subscribed template."""

    def __init__(self, slot: ServiceSlot, *, deliver: bool = True) -> None:
        self.slot = slot
        self.deliver = deliver  # False in stateless HTTP: no connection outlives its request
        self.bus = InMemorySubscriptionBus()
        self.sessions = SessionRegistry()
        self._listen = ListenHandler(self.bus)
        self._subscribed: dict[int, set[str]] = {}  # handshake era: connection -> URIs
        self._listened: Counter[str] = Counter()  # 2026-07-28: URIs named by open listen streams
        self._versions: dict[str, int | None] = {}  # last version notified per watched URI (None: gone)
        self._notified_generation: int | None = None

    async def middleware(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """Remember every handshake-era session that talks to us."""
        if self.deliver and ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            self.sessions.remember(ctx.session)
        return await call_next(ctx)

    # -- resource subscriptions ------------------------------------------------------------------

    async def subscribe(
        self, ctx: ServerRequestContext[Any], params: types.SubscribeRequestParams
    ) -> types.EmptyResult:
        """``resources/subscribe`` (handshake era): this connection hears when the resource changes."""
        key = self.sessions.remember(ctx.session)
        if key is not None:
            uri = str(params.uri)
            self._subscribed.setdefault(key, set()).add(uri)
            await self._watch(uri)
        return types.EmptyResult()

    async def unsubscribe(
        self, ctx: ServerRequestContext[Any], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        """``resources/unsubscribe`` (handshake era)."""
        key = self.sessions.key(ctx.session)
        if key is not None:
            self._subscribed.get(key, set()).discard(str(params.uri))
        return types.EmptyResult()

    async def listen(
        self, ctx: ServerRequestContext[Any, Any], params: types.SubscriptionsListenRequestParams
    ) -> types.SubscriptionsListenResult:
        """``subscriptions/listen`` (2026-07-28): the SDK's stream, with its resource URIs watched meanwhile."""
        uris = [str(uri) for uri in params.notifications.resource_subscriptions or ()]
        for uri in uris:
            self._listened[uri] += 1
            await self._watch(uri)
        try:
            return await self._listen(ctx, params)
        finally:
            self._listened.subtract(uris)
            for uri in uris:
                if self._listened[uri] <= 0:
                    del self._listened[uri]

    async def _watch(self, uri: str) -> None:
        if uri not in self._versions:
            self._versions[uri] = await self._version_of(uri)

    async def _version_of(self, uri: str) -> int | None:
        target = parse_template_uri(uri)
        service = self.slot.opened
        if target is None or isinstance(target[1], int) or service is None:
            return None  # not a template, or a fixed version: it never changes
        try:
            return (await service.get(target[0], label=target[1])).version
        except NotFoundError:
            return None

    def _watched(self) -> set[str]:
        for key in [key for key in self._subscribed if key not in self.sessions]:
            del self._subscribed[key]  # the connection was forgotten: so are its subscriptions
        uris = set(self._listened)
        for subscribed in self._subscribed.values():
            uris |= subscribed
        return uris

    # -- noticing changes ------------------------------------------------------------------------

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
        await self._resources_updated()

    async def _resources_updated(self) -> None:
        watched = self._watched()
        for uri in list(self._versions):
            if uri not in watched:
                del self._versions[uri]
        for uri in watched:
            version = await self._version_of(uri)
            if self._versions.get(uri) == version:
                continue
            self._versions[uri] = version
            await self.bus.publish(ResourceUpdated(uri=uri))
            for key, session in self.sessions.items():
                if uri in self._subscribed.get(key, ()):
                    await self._send(key, session.send_resource_updated(uri))

    async def broadcast(self) -> None:
        """Send list_changed to every live session and publish it for listen streams."""
        for key, session in self.sessions.items():
            await self._send(key, session.send_prompt_list_changed())
            await self._send(key, session.send_resource_list_changed())
        await self.bus.publish(PromptsListChanged())
        await self.bus.publish(ResourcesListChanged())

    async def _send(self, key: int, sending: Any) -> None:
        try:
            await sending
        except Exception as exc:  # a closed connection must not stop the others from hearing
            log.debug("dropping a connection after a failed notification", error=str(exc))
            self.sessions.forget(key)
            self._subscribed.pop(key, None)

    @asynccontextmanager
    async def watching(self, poll_seconds: float = POLL_SECONDS) -> AsyncIterator[None]:
        """Poll for changes (and flush render events) while the body runs; stop between polls, never mid-query.

        On PostgreSQL the service also listens for other instances' writes: the poll then costs no query, and a
        write heard of wakes the watcher at once.
        """
        stop = anyio.Event()

        async def watch() -> None:
            while not stop.is_set():
                service = self.slot.opened
                signal = service.change_signal() if service is not None else None
                try:
                    await self.check()
                    if service is not None:
                        await service.flush_events()
                except Exception as exc:  # the store may be briefly unreachable; keep watching
                    log.warning("change watcher could not read the store", error=str(exc))
                with anyio.move_on_after(poll_seconds):
                    await _first_of(stop, signal)

        async with anyio.create_task_group() as group:
            following = anyio.CancelScope()  # entered by the follower; cancelled here: listening waits forever
            group.start_soon(watch)
            group.start_soon(self._follow, following)
            try:
                yield
            finally:
                stop.set()
                following.cancel()

    async def _follow(self, scope: anyio.CancelScope) -> None:
        with scope:
            while True:
                try:
                    service = await self.slot.get()
                except PbaError:
                    await anyio.sleep(RETRY_SECONDS)  # the store could not be opened yet; requests say why
                    continue
                await service.follow_changes()  # returns at once where the store has no notifications
                return


async def _first_of(first: anyio.Event, second: anyio.Event | None) -> None:
    """Wait until either event is set."""
    if second is None:
        await first.wait()
        return
    async with anyio.create_task_group() as group:

        async def wait(event: anyio.Event) -> None:
            await event.wait()
            group.cancel_scope.cancel()

        group.start_soon(wait, first)
        group.start_soon(wait, second)
