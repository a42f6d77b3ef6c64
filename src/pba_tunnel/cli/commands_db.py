"""Store administration (``db upgrade``, ``db path``) and ``serve``."""

from __future__ import annotations

import anyio
import click

from ..errors import PbaError
from ..store import Store
from .app import State, cli, fail, run


@cli.group()
def db() -> None:
    """Store administration."""


@db.command()
def upgrade() -> None:
    """Apply pending schema migrations."""
    state = click.get_current_context().find_object(State)
    assert state is not None

    async def work() -> bool:
        store = await Store.open(state.settings().database_url, migrate_schema=False)
        try:
            return await store.upgrade()
        finally:
            await store.close()

    try:
        ran = anyio.run(work)
    except PbaError as exc:
        fail(exc.message)
    click.echo("schema upgraded to the newest revision" if ran else "schema already up to date")


@db.command()
def path() -> None:
    """Print where the store is (its file for SQLite, else its URL without password)."""
    state = click.get_current_context().find_object(State)
    assert state is not None
    try:
        settings = state.settings()
    except PbaError as exc:
        fail(exc.message)
    sqlite_path = settings.sqlite_path
    click.echo(str(sqlite_path) if sqlite_path else settings.database_url.split("@")[-1])


@cli.command()
def serve() -> None:
    """Serve the templates over MCP (stdio)."""

    async def ready(_service: object) -> None:
        """Opening the service creates, migrates and seeds the store."""

    run(ready)
    fail("the MCP server is not available in this version yet (the store is ready)")
