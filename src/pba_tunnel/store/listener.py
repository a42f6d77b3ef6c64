"""Hearing of other processes' template writes on PostgreSQL: ``LISTEN`` on a connection of its own.

Every template write sends ``NOTIFY`` in its transaction (see ``connections.bump_generation``), so the listener
hears of it when it commits, whichever process or host wrote. The listener keeps a counter that moves on each
notification; the service compares it with the one it last saw instead of asking the database on every request.

Notifications sent while the listener is disconnected are lost, so the counter also moves on every (re)connect,
and a cheap periodic read of the change counter on the listening connection (which also proves the connection
alive) moves it when the generation changed without a notification. While the listener is down it reports no
counter at all, and the service asks the database each time, as on any database without notifications.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anyio
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .connections import CHANGES_CHANNEL, GENERATION_KEY
from .models import META

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ListenerState:
    """What ``/healthz`` shows of the listener."""

    state: str  # "starting", "listening" or "reconnecting"
    notifications: int
    reconnects: int
    last_error: str | None


class ChangeListener:
    """``LISTEN`` on a dedicated connection, reconnecting with backoff until cancelled."""

    def __init__(self, engine: AsyncEngine, *, check_seconds: float, timeout: float) -> None:
        self._engine = engine  # a pool-less engine of its own: the listening connection never serves queries
        self.check_seconds = check_seconds
        self.timeout = timeout
        self.counter = 0
        self.listening = False
        self._connected_once = False
        self._notifications = 0
        self._reconnects = 0
        self._last_error: str | None = None
        self._generation: str | None = None
        self._lost = anyio.Event()
        self.moved = anyio.Event()  # set (and replaced by a fresh one) on every counter move

    def state(self) -> ListenerState:
        """The listener as a health check reports it."""
        if self.listening:
            state = "listening"
        else:
            state = "reconnecting" if self._connected_once or self._last_error else "starting"
        return ListenerState(state, self._notifications, self._reconnects, self._last_error)

    def _move(self) -> None:
        self.counter += 1
        moved, self.moved = self.moved, anyio.Event()
        moved.set()

    def _notified(self, *_args: Any) -> None:
        # asyncpg calls this on the event loop for each NOTIFY on our channel.
        self._notifications += 1
        self._move()

    def _terminated(self, *_args: Any) -> None:
        self.listening = False
        self._lost.set()

    async def run(self) -> None:
        """Listen until cancelled; each loss of the connection is followed by reconnecting with backoff."""
        # Imported here: only a PostgreSQL store listens, and a SQLite start should not pay for it.
        from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter

        try:
            while True:
                # Backoff with jitter between attempts (0.1 s doubling up to 5 s), so instances that lost the
                # database together do not reconnect in lockstep; it restarts after each lost connection.
                retrying = AsyncRetrying(
                    retry=retry_if_exception_type(Exception),
                    wait=wait_exponential_jitter(multiplier=0.1, max=5.0, jitter=0.5),
                    reraise=True,
                )
                async for attempt in retrying:
                    with attempt:
                        await self._listen_once()
        finally:
            self.listening = False

    async def _listen_once(self) -> None:
        self._lost = anyio.Event()
        try:
            with anyio.fail_after(self.timeout):
                connection = await self._engine.connect()
        except BaseException as exc:
            self._note_failure(exc)
            raise
        try:
            raw = (await connection.get_raw_connection()).driver_connection
            if raw is None:
                raise ConnectionError("the listening connection was closed")
            raw.add_termination_listener(self._terminated)
            await raw.add_listener(CHANGES_CHANNEL, self._notified)
            await self._check(connection)  # before listening counts: the generation as of now
            if self._connected_once:
                self._reconnects += 1
                log.info("change listener reconnected", reconnects=self._reconnects)
            self._connected_once = True
            self._last_error = None
            self.listening = True
            self._move()  # notifications may have been missed while we were away: the service looks once
            while True:
                with anyio.move_on_after(self.check_seconds):
                    await self._lost.wait()
                if self._lost.is_set():
                    raise ConnectionError("the listening connection was closed")
                await self._check(connection)
        except BaseException as exc:
            self._note_failure(exc)
            raise
        finally:
            self.listening = False
            with anyio.CancelScope(shield=True), anyio.move_on_after(self.timeout):
                await connection.invalidate()  # closed, never reused: it may be broken or still LISTENing
                await connection.close()

    async def _check(self, connection: AsyncConnection) -> None:
        """Read the change counter: a moved one we were not told about moves ours (and proves the link alive)."""
        with anyio.fail_after(self.timeout):
            result = await connection.execute(select(META.c.value).where(META.c.key == GENERATION_KEY))
            generation = result.scalar_one_or_none()
            await connection.rollback()  # end the read's transaction: an idle LISTEN connection holds no snapshot
        if self._generation is not None and generation != self._generation:
            self._move()
        self._generation = generation

    def _note_failure(self, exc: BaseException) -> None:
        if isinstance(exc, Exception):
            if self.listening or self._last_error is None:
                log.warning("change listener lost its connection", error=str(exc) or type(exc).__name__)
            self._last_error = str(getattr(exc, "orig", exc)) or type(exc).__name__
        self.listening = False
