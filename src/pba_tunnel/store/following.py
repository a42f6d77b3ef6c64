"""Server databases: bounded waits, dropped connections noticed, other instances' writes heard, health facts.

On PostgreSQL a :class:`ChangeListener` tells the store when anyone wrote, so requests need no round trip to
learn it; the engine checks a pooled connection before lending it (a database restart leaves dead ones behind)
and no wait for the database lasts longer than the timeouts given.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import anyio
from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool, QueuePool

from .connections import StoreBase
from .listener import ChangeListener, ListenerState

LISTENER_NAME = "pba-tunnel-listener"  # the listening connection's application_name


@dataclass(frozen=True)
class ServerDatabaseOptions:
    """How long to wait for a server database, and how often to double-check for missed notifications."""

    timeout: float = 5.0  # connecting (a database that is down refuses at once; an unreachable one takes this)
    query_timeout: float = 30.0  # one statement, or waiting for a pooled connection while all are busy
    change_check_seconds: float = 2.0


def engine_options(url: str, options: ServerDatabaseOptions) -> dict[str, Any]:
    """``create_async_engine`` keywords for ``url``: none for SQLite (a local file), bounds for asyncpg."""
    if url.startswith("sqlite"):
        return {}
    # A busy pool is load, not an outage: a burst of writes to one template queues on its row lock, holding
    # connections meanwhile, so waiting for one is bounded by the statement timeout rather than the connect one.
    engine: dict[str, Any] = {"pool_pre_ping": True, "pool_timeout": options.query_timeout}
    if url.startswith("postgresql+asyncpg"):
        engine["connect_args"] = {"timeout": options.timeout, "command_timeout": options.query_timeout}
    return engine


@dataclass(frozen=True)
class PoolState:
    """Connections of the store's pool (None where the pool does not count them)."""

    size: int | None
    checked_out: int | None
    overflow: int | None


@dataclass(frozen=True)
class StoreHealth:
    """What a health check reports of the store."""

    kind: str
    latency_ms: float
    pool: PoolState
    listener: ListenerState | None


class ChangeFollowing(StoreBase):
    """Following other instances' writes (PostgreSQL), and the facts a health check reports."""

    server_options = ServerDatabaseOptions()
    _listener: ChangeListener | None = None

    @property
    def kind(self) -> str:
        """The database behind the store: ``sqlite``, ``postgresql``, …"""
        return self.engine.dialect.name

    @property
    def notifies(self) -> bool:
        """True when other processes' writes can be heard of (PostgreSQL ``NOTIFY``, through asyncpg)."""
        return self.kind == "postgresql" and self.engine.dialect.driver == "asyncpg"

    async def follow_changes(self) -> None:
        """Listen for other processes' writes until cancelled (returns at once where there is nothing to hear)."""
        if not self.notifies or self._listener is not None:
            return
        options = self.server_options
        # Pool-less (NullPool): pool_timeout does not apply, pre-ping and the connect bounds do.
        listening = {k: v for k, v in engine_options(self.url, options).items() if k != "pool_timeout"}
        # Named, so an administrator can tell it in pg_stat_activity (it is idle by design).
        connect_args = {**listening.get("connect_args", {}), "server_settings": {"application_name": LISTENER_NAME}}
        listening["connect_args"] = connect_args
        engine = create_async_engine(self.url, poolclass=NullPool, **listening)
        self._listener = ChangeListener(engine, check_seconds=options.change_check_seconds, timeout=options.timeout)
        try:
            await self._listener.run()
        finally:
            self._listener = None
            with anyio.CancelScope(shield=True):
                await engine.dispose()

    def data_version(self) -> int | None:
        """While the listener listens, its counter plus our own commits (no query at all); else the dialect's."""
        listener = self._listener
        if listener is not None:
            # Both only grow, so the sum moves whenever either does: another process's write is heard of, and
            # our own is known at once (a client reading right after its write must not get the old version).
            return listener.counter + self.commits if listener.listening else None
        return super().data_version()

    def change_signal(self) -> anyio.Event | None:
        """An event set when the listener hears of a change (None without a listener); replace it after waiting."""
        return None if self._listener is None else self._listener.moved

    def listener_state(self) -> ListenerState | None:
        """The listener's state, or None where the store has none."""
        return None if self._listener is None else self._listener.state()

    async def health(self) -> StoreHealth:
        """Kind, one round trip's latency, the pool and the listener; StoreError when the database is unreachable."""
        start = time.perf_counter()
        async with self._read() as connection:
            await connection.execute(select(literal(1)))
        latency = round((time.perf_counter() - start) * 1000, 3)
        return StoreHealth(self.kind, latency, self.pool_state(), self.listener_state())

    def pool_state(self) -> PoolState:
        """How many connections the pool holds and lends right now."""
        pool = self.engine.pool
        if isinstance(pool, QueuePool):
            return PoolState(pool.size(), pool.checkedout(), max(pool.overflow(), 0))
        return PoolState(None, None, None)
