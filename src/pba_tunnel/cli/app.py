"""The command group, shared options, and how errors and output reach the user."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import click
from pydantic import BaseModel

from ..collector import starting_up
from ..config import ENV_PREFIX, MAX_VERSION, Settings, load_settings
from ..errors import PbaError
from ..logging import configure_logging
from .errors import describe

if TYPE_CHECKING:
    from ..service import TemplateService

T = TypeVar("T")

VERSION = click.IntRange(1, MAX_VERSION)  # the type of every version option: a bigger one is a usage error


class State:
    """What the group's options decided, for every command."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def settings(self) -> Settings:
        """Settings from the environment, with command-line options on top."""
        return self._settings


def fail(message: str, code: int = 1) -> None:
    """One readable line on stderr and a non-zero exit; never a traceback."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def run(work: Callable[[TemplateService], Awaitable[T]]) -> T:
    """Open the service, run ``work`` with it, close it; user errors become one line on stderr."""
    state: State = click.get_current_context().find_object(State)  # type: ignore[assignment]

    async def main() -> T:
        with starting_up():
            from ..startup import open_service

            service = await open_service(state.settings())
        try:
            return await work(service)
        finally:
            await service.close()

    try:
        return anyio.run(main)
    except PbaError as exc:
        fail(describe(exc))
    raise AssertionError("unreachable")


def run_plain(work: Callable[[], T]) -> T:
    """Run ``work`` (no store needed) with the same error handling as :func:`run`."""
    try:
        return work()
    except PbaError as exc:
        fail(describe(exc))
    raise AssertionError("unreachable")


def echo_json(value: Any) -> None:
    """Print a model, a list of models or plain data as JSON on stdout."""

    def plain(item: Any) -> Any:
        if isinstance(item, BaseModel):
            return item.model_dump(mode="json")
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            return dataclasses.asdict(item)
        if isinstance(item, list):
            return [plain(i) for i in item]
        return item

    click.echo(json.dumps(plain(value), indent=2, ensure_ascii=False))


class ProgressBar:
    """A progress bar on stderr while it is a terminal; nothing at all when output is piped."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._bar: Any = None

    @property
    def callback(self) -> Callable[[int, int], None] | None:
        """The ``(done, total)`` callback to hand to long work, or None when not on a terminal."""
        return self.update if sys.stderr.isatty() else None

    def update(self, done: int, total: int) -> None:
        """Advance by one item."""
        if self._bar is None:
            self._bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self._bar.__enter__()
        self._bar.update(1)
        if done >= total:
            self.close()

    def close(self) -> None:
        """Finish the bar (idempotent)."""
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--home",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help=f"Folder of the default SQLite store [env: {ENV_PREFIX}HOME].",
)
@click.option(
    "--database-url",
    default=None,
    metavar="URL",
    help=f"Any SQLAlchemy async URL, e.g. sqlite+aiosqlite:///t.db [env: {ENV_PREFIX}DATABASE_URL].",
)
@click.version_option(package_name="mcp-pba-tunnel", prog_name="pba-tunnel")
@click.pass_context
def cli(ctx: click.Context, home: Path | None, database_url: str | None) -> None:
    """MCP-PBA-TUNNEL: one store of prompt templates for every MCP client."""
    try:
        settings = load_settings(home=home, database_url=database_url)
        configure_logging("warning" if settings.log_level is None else settings.log_level, settings.log_format)
    except PbaError as exc:
        fail(describe(exc))
    ctx.obj = State(settings)
