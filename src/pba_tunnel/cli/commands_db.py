"""Store administration (``db upgrade``, ``db path``) and ``serve``."""

from __future__ import annotations

from pathlib import Path

import anyio
import click

from ..errors import PbaError
from .app import State, cli, fail, run
from .errors import describe


@cli.group()
def db() -> None:
    """Store administration."""


@db.command()
def upgrade() -> None:
    """Apply pending schema migrations."""
    state = click.get_current_context().find_object(State)
    assert state is not None

    async def work() -> bool:
        from ..service import upgrade_store

        return await upgrade_store(state.settings().database_url)

    try:
        ran = anyio.run(work)
    except PbaError as exc:
        fail(describe(exc))
    click.echo("schema upgraded to the newest revision" if ran else "schema already up to date")


@db.command()
def reindex() -> None:
    """Rebuild the full-text search index from every template's current version."""
    count = run(lambda service: service.reindex())
    click.echo(f"indexed {count} templates")


@db.command()
def path() -> None:
    """Print where the store is (its file for SQLite, else its URL without password)."""
    state = click.get_current_context().find_object(State)
    assert state is not None
    try:
        settings = state.settings()
    except PbaError as exc:
        fail(describe(exc))
    sqlite_path = settings.sqlite_path
    click.echo(str(sqlite_path) if sqlite_path else settings.database_url.split("@")[-1])


@cli.command()
@click.option(
    "--transport",
    type=click.Choice(["stdio", "http", "sse"]),
    default="stdio",
    show_default=True,
    help="stdio for Claude Desktop and IDEs; http (streamable HTTP at /mcp); sse for older clients.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (http, sse).")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port (http, sse).")
@click.option("--stateless", is_flag=True, help="Streamable HTTP without sessions (for load-balanced replicas).")
@click.option(
    "--auth-token",
    default=None,
    metavar="TOKEN",
    help="Require 'Authorization: Bearer TOKEN' (mandatory when binding beyond loopback) [env: PBA_TUNNEL_AUTH_TOKEN].",
)
@click.option(
    "--watch",
    "watch",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Keep the store in step with template files in this folder while serving (repeatable).",
)
@click.option(
    "--stdio-transport",
    type=click.Choice(["auto", "portable"]),
    default="auto",
    show_default=True,
    help="auto: on Unix, read stdin pipes on the event loop; portable: the MCP SDK's thread-based transport.",
)
def serve(
    transport: str,
    host: str,
    port: int,
    stateless: bool,
    auth_token: str | None,
    watch: tuple[Path, ...],
    stdio_transport: str,
) -> None:
    """Serve the templates over MCP (stdio by default)."""
    from ..server.run_options import event_loop_options
    from ..server.serve import serve_forever

    state = click.get_current_context().find_object(State)
    assert state is not None
    try:
        settings = state.settings()
        anyio.run(
            lambda: serve_forever(
                settings,
                transport=transport,
                host=host,
                port=port,
                stateless=stateless,
                token=settings.auth_token if auth_token is None else auth_token,
                watch=watch,
                stdio_transport="portable" if stdio_transport == "portable" else "auto",
            ),
            backend_options=event_loop_options(),
        )
    except PbaError as exc:
        fail(describe(exc))
    except KeyboardInterrupt:
        pass
