"""What differs between databases, behind one small interface.

The store's queries are portable SQLAlchemy; only connection set-up, how a write transaction takes its
lock, and (later) full-text search and change notification differ per database.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Select

from .fulltext import SqliteFullText


class Dialect(Protocol):
    """Database-specific behaviour the store relies on."""

    name: str
    fulltext: SqliteFullText | None  # None: search falls back to plain matching

    def prepare(self, engine: AsyncEngine) -> None:
        """Install connection hooks (pragmas, transaction handling)."""

    def write_options(self) -> dict[str, Any]:
        """Execution options for a connection that will write."""

    def lock_for_write(self, statement: Select[Any]) -> Select[Any]:
        """Make a SELECT of the row about to change hold it until commit."""

    def change_token(self) -> bytes | None:
        """Bytes that differ after any commit by any process, read without a query; None if unknown."""

    def close(self) -> None:
        """Release what the dialect holds open."""


class SqliteDialect:
    """SQLite: WAL, a busy timeout, and ``BEGIN IMMEDIATE`` for writers so concurrent writers queue."""

    name = "sqlite"
    fulltext: SqliteFullText | None = SqliteFullText()

    def __init__(self, path: str | None = None, busy_timeout_ms: int = 10_000) -> None:
        self.busy_timeout_ms = busy_timeout_ms
        self._shm_path = f"{path}-shm" if path else None
        self._shm_fd: int | None = None

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
            connection.exec_driver_sql(f"BEGIN {mode}")

    def write_options(self) -> dict[str, Any]:
        return {"sqlite_begin": "IMMEDIATE"}

    def lock_for_write(self, statement: Select[Any]) -> Select[Any]:
        return statement  # BEGIN IMMEDIATE already holds the write lock

    def change_token(self) -> bytes | None:
        # The WAL-index header (first 96 bytes of the -shm file: two copies of mxFrame, salts, checksums)
        # changes on every commit by any connection of any process; reading it costs ~2 µs, a query ~100.
        if self._shm_path is None:
            return None
        try:
            if self._shm_fd is None:
                self._shm_fd = os.open(self._shm_path, os.O_RDONLY)
            return os.pread(self._shm_fd, 96, 0)
        except OSError:
            self.close()
            return None

    def close(self) -> None:
        """Forget the open -shm file (it is reopened on the next look)."""
        if self._shm_fd is not None:
            os.close(self._shm_fd)
            self._shm_fd = None


class GenericDialect:
    """Server databases (PostgreSQL): row locks with SELECT … FOR UPDATE."""

    name = "generic"
    fulltext: SqliteFullText | None = None

    def prepare(self, engine: AsyncEngine) -> None:
        """Nothing to install."""

    def write_options(self) -> dict[str, Any]:
        return {}

    def lock_for_write(self, statement: Select[Any]) -> Select[Any]:
        return statement.with_for_update()

    def change_token(self) -> bytes | None:
        return None  # every check asks the database

    def close(self) -> None:
        """Nothing to release."""


def dialect_for(url: str, sqlite_file: str | None = None) -> Dialect:
    """The dialect that fits a database URL."""
    if url.startswith("sqlite"):
        return SqliteDialect(sqlite_file)
    return GenericDialect()
