"""The ``pba-tunnel`` command line: thin commands over the service API."""

from __future__ import annotations

import sys

import click

from ..collector import exiting
from .app import cli, fail

__all__ = ["cli", "main"]


def main() -> None:
    """Console-script entry point."""
    # Imported here, not above: each command module registers itself on ``cli`` and imports app.py, and
    # ``pba_tunnel.cli.app`` alone (tests, ``cli`` for click's runner) need not pull them in.
    from . import (  # noqa: F401  (registers commands)
        commands_db,
        commands_enhance,
        commands_read,
        commands_tokens,
        commands_ui,
        commands_usage,
        commands_write,
    )

    try:
        _dispatch()
    finally:
        exiting()


def _dispatch() -> None:
    # Not standalone: click's own usage errors would be a four-line block; ours are one "error:" line.
    try:
        code = cli.main(standalone_mode=False)
    except click.UsageError as exc:
        if isinstance(exc, getattr(click.exceptions, "NoArgsIsHelpError", ())):
            exc.show()  # a group given no command: its help, as click prints it
            sys.exit(exc.exit_code)
        where = exc.ctx.command_path if exc.ctx is not None else "pba-tunnel"
        fail(f"{exc.format_message()} (see '{where} --help')", code=exc.exit_code)
    except click.ClickException as exc:
        fail(exc.format_message(), code=exc.exit_code)
    except click.Abort:
        fail("aborted")
    sys.exit(code if isinstance(code, int) else 0)
