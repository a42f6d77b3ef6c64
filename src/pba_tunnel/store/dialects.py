"""What differs between databases, behind one small interface.

The store's queries are portable SQLAlchemy; only connection set-up, how a write transaction takes its
lock, full-text search and how another process's commit is noticed differ per database.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Table, event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Select

from .fulltext import FullText, SqliteFullText
from .pg_fulltext import PostgresFullText

# Any fixed number: the key of the advisory lock PostgreSQL instances take while they migrate the schema.
MIGRATION_LOCK_KEY = 0x50_42_41_54  # "PBAT"


class Dialect(Protocol):
    """Database-specific behaviour the store relies on."""

    name: str
    fulltext: FullText | None  # None: search falls back to plain matching

    def prepare(self, engine: AsyncEngine) -> None:
        """Install connection hooks (pragmas, transaction handling)."""

    def write_options(self) -> dict[str, Any]:
        """Execution options for a connection that will write."""

    def statement_options(self) -> dict[str, Any]:
        """Execution options for a connection that reads with one statement (which sees one state by itself)."""

    def lock_for_write(self, statement: Select[Any]) -> Select[Any]:
        """Make a SELECT of the row about to change hold it until commit."""

    async def lock_schema(self, connection: AsyncConnection) -> None:
        """In a write transaction: wait until no other process migrates the schema, and keep them out until commit."""

    def snapshot_options(self) -> dict[str, Any]:
        """Execution options for a transaction whose reads all see one snapshot."""

    async def reset_ids(self, connection: AsyncConnection, table: Table) -> None:
        """After rows were inserted with their ids: make the next generated id follow the largest."""

    def data_version(self) -> int | None:
        """A number that moves when another connection commits, read without a pool query; None if unknown."""

    def close(self) -> None:
        """Release what the dialect holds open."""


class SqliteDialect:
    """SQLite: WAL, a busy timeout, and ``BEGIN IMMEDIATE`` for writers so concurrent writers queue."""

    name = "sqlite"
    fulltext: FullText | None = SqliteFullText()

    def __init__(self, path: str | None = None, busy_timeout_ms: int = 10_000) -> None:
        self.busy_timeout_ms = busy_timeout_ms
        self._path = path
        self._watch: sqlite3.Connection | None = None

    def prepare(self, engine: AsyncEngine) -> None:
        busy_timeout_ms = self.busy_timeout_ms

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let us issue BEGIN ourselves (pysqlite's implicit transactions cannot BEGIN IMMEDIATE).
            dbapi_connection.isolation_level = None
            try:
                cursor = dbapi_connection.cursor()
                cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
                cursor.execute("PRAGMA foreign_keys = ON")
                cursor.close()
            except Exception:
                # The pool drops a connection whose set-up failed without closing it; its worker thread
                # would outlive the event loop and fail later. Close it here.
                dbapi_connection.close()
                raise

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Any) -> None:
            mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
            if mode is not None:  # None: no transaction, each statement commits (or reads) on its own
                connection.exec_driver_sql(f"BEGIN {mode}")

    def write_options(self) -> dict[str, Any]:
        return {"sqlite_begin": "IMMEDIATE"}

    def statement_options(self) -> dict[str, Any]:
        # One statement reads one snapshot in autocommit mode; leaving out BEGIN saves three of the eight hops to
        # aiosqlite's thread a read took (the BEGIN's cursor, execute and close; the closing rollback is a no-op).
        return {"sqlite_begin": None}

    def lock_for_write(self, statement: Select[Any]) -> Select[Any]:
        return statement  # BEGIN IMMEDIATE already holds the write lock

    async def lock_schema(self, connection: AsyncConnection) -> None:
        """Nothing more: BEGIN IMMEDIATE already keeps every other writer out."""

    def snapshot_options(self) -> dict[str, Any]:
        return {}  # in WAL mode a read transaction sees one snapshot from its first read

    async def reset_ids(self, connection: AsyncConnection, table: Table) -> None:
        """Nothing: SQLite's next rowid follows the largest by itself."""

    def data_version(self) -> int | None:
        # PRAGMA data_version (documented, every platform) moves whenever any other connection, of this process
        # or another, commits to the file. It only means something on one connection, so one is kept for it
        # alone and never writes. The pragma reads the WAL index in shared memory (microseconds), so it runs
        # inline rather than on a worker thread; with no busy timeout a rare lock wait is an error, and the
        # caller then asks the database instead.
        if self._path is None:
            return None
        try:
            if self._watch is None:
                uri = Path(self._path).absolute().as_uri() + "?mode=rw"  # never creates the file
                self._watch = sqlite3.connect(uri, uri=True, timeout=0, isolation_level=None, check_same_thread=False)
            # fetchall steps the statement to its end, so no read transaction stays open to hold back checkpoints
            rows = self._watch.execute("PRAGMA data_version").fetchall()
        except sqlite3.Error:
            return None
        return int(rows[0][0])

    def close(self) -> None:
        """Close the connection kept for data_version; later looks answer None."""
        self._path = None  # a new connection's numbers could repeat the old one's
        if self._watch is not None:
            self._watch.close()
            self._watch = None


class GenericDialect:
    """Other server databases: row locks with SELECT … FOR UPDATE, plain word matching for search."""

    name = "generic"
    fulltext: FullText | None = None

    def prepare(self, engine: AsyncEngine) -> None:
        """Nothing to install."""

    def write_options(self) -> dict[str, Any]:
        return {}

    def statement_options(self) -> dict[str, Any]:
        return {}  # a server database's read transaction costs no more than the statement's own

    def lock_for_write(self, statement: Select[Any]) -> Select[Any]:
        return statement.with_for_update()

    async def lock_schema(self, connection: AsyncConnection) -> None:
        """Nothing: migrations are transactional and the loser of a race fails on the version row."""

    def snapshot_options(self) -> dict[str, Any]:
        return {"isolation_level": "REPEATABLE READ"}

    async def reset_ids(self, connection: AsyncConnection, table: Table) -> None:
        """Nothing known in general."""

    def data_version(self) -> int | None:
        return None  # every check asks the database

    def close(self) -> None:
        """Nothing to release."""


class PostgresDialect(GenericDialect):
    """PostgreSQL: row locks, a tsvector index kept by triggers, and an advisory lock around migrations."""

    name = "postgresql"
    fulltext: FullText | None = PostgresFullText()

    async def lock_schema(self, connection: AsyncConnection) -> None:
        """Take the migration lock until the transaction ends (a second instance waits, then sees the new schema)."""
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})

    async def reset_ids(self, connection: AsyncConnection, table: Table) -> None:
        """Move the id sequence of ``table`` (when it has one) past its largest id."""
        if "id" not in table.c:
            return
        await connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:table, 'id'), coalesce(max(id), 0) + 1, false) "
                f"FROM {table.name}"
            ),
            {"table": table.name},
        )


def dialect_for(url: str, sqlite_file: str | None = None) -> Dialect:
    """The dialect that fits a database URL."""
    if url.startswith("sqlite"):
        return SqliteDialect(sqlite_file)
    if url.startswith(("postgresql", "postgres")):
        return PostgresDialect()
    return GenericDialect()
