"""The base of the store: its engine, read and write connections, store-wide facts and the generation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from sqlalchemy import Integer, Text, cast, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..errors import StoreError
from . import migrate
from .dialects import Dialect
from .models import META
from .opening import describe_database_error

GENERATION_KEY = "generation"
CHANGES_CHANNEL = "pba_tunnel_changes"  # PostgreSQL NOTIFY channel: every instance's listener hears each write


async def bump_generation(connection: AsyncConnection) -> None:
    """Count one change to what templates exist or say, in the writer's transaction."""
    # So any process can tell "templates changed" from "only render events were written".
    bumped = await connection.execute(
        update(META).where(META.c.key == GENERATION_KEY).values(value=cast(cast(META.c.value, Integer) + 1, Text))
    )
    if bumped.rowcount == 0:
        await connection.execute(insert(META).values(key=GENERATION_KEY, value="1"))
    if connection.dialect.name == "postgresql":
        # Sent in the writer's transaction, so it reaches every listener exactly when the write commits.
        await connection.execute(select(func.pg_notify(CHANGES_CHANNEL, "")))


async def put_meta(connection: AsyncConnection, key: str, value: str) -> None:
    """Set a store-wide fact in the writer's transaction."""
    await connection.execute(delete(META).where(META.c.key == key))
    await connection.execute(insert(META).values(key=key, value=value))


class StoreBase:
    """Connections to one database; the store's parts build on it."""

    def __init__(self, engine: AsyncEngine, dialect: Dialect, url: str) -> None:
        self.engine = engine
        self.dialect = dialect
        # The same pool, for reads made of one statement: they need no transaction around them.
        self._statement_engine = engine.execution_options(**dialect.statement_options())
        self.url = url
        self.commits = 0  # write transactions this store committed

    async def close(self) -> None:
        """Release every connection."""
        self.dialect.close()
        await self.engine.dispose()

    async def upgrade(self) -> bool:
        """Apply pending migrations; True when one ran."""
        async with self._errors():
            return await migrate.upgrade(self.engine, self.dialect)

    @asynccontextmanager
    async def _errors(self) -> AsyncIterator[None]:
        try:
            yield
        except (DBAPIError, OSError, PoolTimeoutError) as exc:
            if isinstance(exc, IntegrityError):
                raise
            raise StoreError(describe_database_error(self.url, exc)) from None

    # Database work is shielded from cancellation: cancelling an aiosqlite call mid-query leaves its
    # connection unable to close (engine disposal hangs), and a write is better finished than torn.
    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        with anyio.CancelScope(shield=True):
            async with self._errors(), self.engine.connect() as connection:
                yield connection

    @asynccontextmanager
    async def _read_statement(self) -> AsyncIterator[AsyncConnection]:
        """A connection for a read of exactly one statement (the hot reads: a template, a page, the generation)."""
        with anyio.CancelScope(shield=True):
            async with self._errors(), self._statement_engine.connect() as connection:
                yield connection

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        with anyio.CancelScope(shield=True):
            async with self._write_unshielded() as connection:
                yield connection

    @asynccontextmanager
    async def _write_unshielded(self) -> AsyncIterator[AsyncConnection]:
        async with self._errors(), self.engine.connect() as connection:
            await connection.execution_options(**self.dialect.write_options())
            async with connection.begin():
                yield connection
        self.commits += 1  # our own writes count at once, before any notification of them comes back

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncConnection]:
        """A read transaction whose every query sees the same committed state (for copying a whole store)."""
        async with self._errors(), self.engine.connect() as connection:
            await connection.execution_options(**self.dialect.snapshot_options())
            async with connection.begin():
                yield connection

    @asynccontextmanager
    async def bulk_writer(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction for many statements: all of them commit, or none (for filling a whole store)."""
        async with self._write_unshielded() as connection:
            yield connection

    async def generation(self) -> int:
        """The template generation: it changes with every template write by any process."""
        value = await self.get_meta(GENERATION_KEY)
        return int(value) if value is not None else 0

    def data_version(self) -> int | None:
        """A number that moves when another connection commits, read without a query; None: ask generation()."""
        return self.dialect.data_version()

    async def get_meta(self, key: str) -> str | None:
        """A store-wide fact."""
        async with self._read_statement() as connection:
            return (await connection.execute(select(META.c.value).where(META.c.key == key))).scalar_one_or_none()

    async def set_meta(self, key: str, value: str) -> None:
        """Set a store-wide fact."""
        async with self._write() as connection:
            await put_meta(connection, key, value)
