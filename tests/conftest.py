"""Shared fixtures: real SQLite stores in temporary folders, a throwaway PostgreSQL server, and the real CLI in a
subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from pba_tunnel.config import Settings, load_settings
from pba_tunnel.service import TemplateService, upgrade_store
from postgres_server import PostgresServer, PostgresUnavailable

REPO = Path(__file__).resolve().parents[1]
STARTER = REPO / "templates"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _no_leaked_database_connections() -> Iterator[None]:
    """Fail the test that leaves an aiosqlite connection open (its thread would fail a later test)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while True:
        leaked = [t for t in threading.enumerate() if t not in before and "_connection_worker_thread" in t.name]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not leaked, f"the test left {len(leaked)} database connection(s) open: close every store it opens"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh PBA_TUNNEL_HOME for one test."""
    path = tmp_path / "home"
    path.mkdir()
    return path


def make_settings(home: Path, *, seed: bool = False, **env: str) -> Settings:
    """Settings for a store under ``home`` (unseeded unless asked)."""
    return load_settings({"PBA_TUNNEL_HOME": str(home), "PBA_TUNNEL_SEED": "1" if seed else "0", **env})


@pytest.fixture
def settings(home: Path) -> Settings:
    return make_settings(home)


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[TemplateService]:
    """An open service over an empty (unseeded) SQLite store in a temporary folder."""
    opened = await TemplateService.open(settings)
    try:
        yield opened
    finally:
        await opened.close()


def template_source(
    description: str = "Greets someone.",
    body: str = "user:\nHello {{ who }}!",
    arguments: str = "  - name: who\n    description: Who to greet\n",
    extra: str = "",
) -> str:
    """A small valid template source; pieces can be swapped to make it invalid."""
    args = f"arguments:\n{arguments}" if arguments else ""
    return f"---\ndescription: {description}\n{extra}{args}---\n{body}\n"


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a CLI subprocess: the parent's minus PBA_TUNNEL_*, plus a store under ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PBA_TUNNEL_")}
    env.update({"PBA_TUNNEL_HOME": str(home), **extra})
    return env


def run_cli(
    *args: str, home: Path, env: Mapping[str, str] | None = None, input: str | None = None, timeout: float = 60
) -> CliResult:
    """Run the real ``pba-tunnel`` command in a subprocess (stdout and stderr captured separately)."""
    completed = subprocess.run(
        [sys.executable, "-m", "pba_tunnel", *args],
        env=cli_env(home, **(env or {})),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


@pytest.fixture
def cli(home: Path):  # type: ignore[no-untyped-def]
    """``cli("list", "--json")`` runs the real CLI against this test's store (seeded on first use)."""

    def call(*args: str, env: Mapping[str, str] | None = None, input: str | None = None) -> CliResult:
        return run_cli(*args, home=home, env=env, input=input)

    return call


# -- PostgreSQL ----------------------------------------------------------------------------------------------

_postgres_skipped: list[str] = []  # why the PostgreSQL tests were skipped, for the terminal summary


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL cluster for the whole session (skipped, or failing under CI, when there is none)."""
    try:
        server = PostgresServer.create()
    except PostgresUnavailable as exc:
        reason = str(exc)
    else:
        reason = ""
    if reason:
        if os.environ.get("CI", "").lower() not in {"", "0", "false"}:
            pytest.fail(f"PostgreSQL tests cannot run under CI: {reason}", pytrace=False)
        _postgres_skipped.append(reason)
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty PostgreSQL database for one test: its ``postgresql+asyncpg://`` URL."""
    return postgres_server.create_database()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly, at the end of the run, that the PostgreSQL tests did not run."""
    if _postgres_skipped:
        terminalreporter.write_line(f"PostgreSQL tests skipped: {_postgres_skipped[0]}", yellow=True, bold=True)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """The database a shared-behaviour test runs on; a test that holds for SQLite only parametrizes it itself."""
    return str(request.param)


@pytest.fixture(scope="session")
def _postgres_store_database(postgres_server: PostgresServer) -> str:
    url = postgres_server.create_database("store")
    anyio.run(upgrade_store, url)
    return url


# Every row deleted (cheaper than TRUNCATE for a few rows; replica mode skips foreign-key and search triggers),
# then what the migrations put into a new store.
_EMPTY_STORE = (
    "DO $$ DECLARE r record; BEGIN SET LOCAL session_replication_role = replica; "
    "FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'alembic_version' "
    "LOOP EXECUTE 'DELETE FROM ' || quote_ident(r.tablename); END LOOP; END $$; "
    "INSERT INTO store_meta (key, value) VALUES ('generation', '0')"
)


@pytest.fixture
def postgres_store_url(postgres_server: PostgresServer, _postgres_store_database: str) -> str:
    """A PostgreSQL store with the newest schema and nothing in it: one database, emptied for each test (far
    quicker than creating and migrating a database per test). Use ``postgres_url`` for a database of your own."""
    postgres_server.psql(_EMPTY_STORE, dbname=_postgres_store_database.rsplit("/", 1)[1])
    return _postgres_store_database


@pytest.fixture
def backend_env(backend: str, request: pytest.FixtureRequest) -> dict[str, str]:
    """Settings environment of the backend: nothing for SQLite (a file under home), an empty store on
    PostgreSQL."""
    if backend == "sqlite":
        return {}
    return {"PBA_TUNNEL_DATABASE_URL": request.getfixturevalue("postgres_store_url")}


async def query_rows(url: str, sql: str) -> list[tuple[object, ...]]:
    """Rows of one SQL query, read straight from a store's database (SQLite or PostgreSQL)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(text(sql))]
    finally:
        await engine.dispose()
