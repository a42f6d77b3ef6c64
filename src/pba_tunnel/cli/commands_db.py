"""Store administration (``db upgrade``, ``db path``, ``db copy``) and ``serve``."""

from __future__ import annotations

from pathlib import Path

import anyio
import click

from ..collector import starting_up
from ..config import async_database_url, checked_auth_token
from ..errors import ConfigError, PbaError
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


@db.command()
@click.option("--to", "to_url", metavar="URL", help="Copy the configured store into the store at URL.")
@click.option("--from", "from_url", metavar="URL", help="Copy the store at URL into the configured store.")
@click.option("--force", is_flag=True, help="Replace what the target store holds (else a non-empty target is refused).")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=1000, show_default=True, help="Rows per batch.")
def copy(to_url: str | None, from_url: str | None, force: bool, batch_size: int) -> None:
    """Copy a whole store (templates, every version, events) between databases, e.g. SQLite to PostgreSQL."""
    from ..store.copying import TargetNotEmptyError, copy_store, summarize

    state = click.get_current_context().find_object(State)
    assert state is not None
    if (to_url is None) == (from_url is None):
        fail("pass either --to URL (copy the configured store there) or --from URL (copy from there)", code=2)
    try:
        configured = state.settings().database_url
        if to_url is not None:
            source, target = configured, async_database_url(to_url, "--to")
        else:
            source, target = async_database_url(str(from_url), "--from"), configured
        report = anyio.run(lambda: copy_store(source, target, replace=force, batch_size=batch_size))
    except TargetNotEmptyError as exc:
        fail(f"{exc.message}; pass --force to replace its contents")
    except PbaError as exc:
        fail(describe(exc))
    click.echo(
        f"copied {summarize(report.rows) or 'an empty store'} from {report.source} to {report.target} "
        f"(row counts checked; {report.indexed} prompts indexed for search)"
    )


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
    "--workers",
    type=click.IntRange(1, 256),
    default=1,
    show_default=True,
    help="Processes serving one port (needs --transport http --stateless).",
)
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
@click.option(
    "--label",
    default=None,
    metavar="LABEL",
    help="Clients see each template's LABEL version (e.g. production); templates without it are hidden. Over HTTP "
    "/mcp/LABEL chooses a label per client.",
)
@click.option(
    "--fallback",
    type=click.Choice(["latest"]),
    default=None,
    help="latest: a template without the label is shown at its newest version instead of hidden.",
)
def serve(
    transport: str,
    host: str,
    port: int,
    stateless: bool,
    workers: int,
    auth_token: str | None,
    watch: tuple[Path, ...],
    stdio_transport: str,
    label: str | None,
    fallback: str | None,
) -> None:
    """Serve the templates over MCP (stdio by default)."""
    state = click.get_current_context().find_object(State)
    assert state is not None
    try:
        settings = state.settings()
        token = settings.auth_token if auth_token is None else checked_auth_token(auth_token, "--auth-token")
    except PbaError as exc:
        fail(describe(exc))
    with starting_up():  # the SDK's import, before the first answer
        from ..server.run_options import event_loop_options
        from ..server.serve import check_workers, serve_forever

    try:
        check_workers(workers, transport=transport, stateless=stateless)
        if workers > 1:
            if watch:
                raise ConfigError("--watch works with one process only: drop --watch or --workers")
            from ..server.workers import serve_workers

            serve_workers(
                settings,
                host=host,
                port=port,
                token=token,
                workers=workers,
                label=label,
                fallback_latest=fallback == "latest",
            )
            return
        anyio.run(
            lambda: serve_forever(
                settings,
                transport=transport,
                host=host,
                port=port,
                stateless=stateless,
                token=token,
                watch=watch,
                stdio_transport="portable" if stdio_transport == "portable" else "auto",
                label=label,
                fallback_latest=fallback == "latest",
            ),
            backend_options=event_loop_options(),
        )
    except PbaError as exc:
        fail(describe(exc))
    except KeyboardInterrupt:
        pass
