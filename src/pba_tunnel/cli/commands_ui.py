"""``pba-tunnel ui``: the web page (and MCP over HTTP beside it) on loopback, opened in the browser."""

from __future__ import annotations

import socket
import threading
import time
import webbrowser

import anyio
import click

from ..errors import PbaError
from .app import State, cli, fail
from .errors import describe

LOOPBACK = "127.0.0.1"
WAIT_FOR_SERVER_SECONDS = 30.0


def open_when_listening(url: str, port: int) -> None:
    """Open ``url`` in the browser once something listens on ``port`` (the store may take a moment to open)."""
    deadline = time.monotonic() + WAIT_FOR_SERVER_SECONDS
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.1)
    else:
        return
    webbrowser.open(url)


@cli.command()
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True, help="Port on 127.0.0.1.")
@click.option("--no-browser", is_flag=True, help="Only print the address; do not open a browser.")
def ui(port: int, no_browser: bool) -> None:
    """Open the web page: browse, try, edit and compare templates (serves MCP at /mcp too)."""
    from ..server.serve import serve_forever

    state = click.get_current_context().find_object(State)
    assert state is not None
    url = f"http://{LOOPBACK}:{port}/"
    click.echo(f"pba-tunnel web page at {url} (MCP at {url}mcp); press Ctrl+C to stop", err=True)
    if not no_browser:
        threading.Thread(target=open_when_listening, args=(url, port), daemon=True).start()
    try:
        anyio.run(
            lambda: serve_forever(
                state.settings(), transport="http", host=LOOPBACK, port=port, stateless=False, token=None
            )
        )
    except PbaError as exc:
        fail(describe(exc))
    except KeyboardInterrupt:
        pass
