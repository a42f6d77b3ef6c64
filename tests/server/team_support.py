"""What the team-server tests share: a PostgreSQL store for servers started later, clients, timed notifications."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.subscriptions import Subscription
from mcp.types import CallToolResult, TextContent
from mcp_server_support import HttpServer, open_service

from conftest import CliResult, run_cli

# The promise: every instance hears of a write within one second.
NOTIFY_SECONDS = 1.0


async def prepare_pg_store(home: Path, url: str, sources: dict[str, str]) -> None:
    """Create the schema at ``url`` and store ``sources`` (name -> source), as a team's first start would."""
    service = await open_service(home, PBA_TUNNEL_DATABASE_URL=url)
    try:
        for name, source in sources.items():
            await service.create(source, name=name)
    finally:
        await service.close()


def pg_instance(home: Path, url: str, *options: str, **env: str) -> Callable[[], HttpServer]:
    """A stateless HTTP server over the PostgreSQL store at ``url`` (started by ``http_servers``)."""
    return lambda: HttpServer(
        home, "--transport", "http", "--stateless", *options, env={"PBA_TUNNEL_DATABASE_URL": url, **env}
    )


@contextmanager
def instances(*starts: Callable[[], HttpServer], seconds: float = 90) -> Iterator[list[HttpServer]]:
    """Start servers at once and wait until each answers ``/healthz`` (a busy machine may take a while)."""
    started: list[HttpServer] = []
    try:
        for start in starts:
            started.append(start())
        for server in started:
            deadline = time.monotonic() + seconds
            while not answers(server):
                assert server.process.poll() is None, f"the server exited: {server.log()}"
                assert time.monotonic() < deadline, f"the server did not answer /healthz: {server.log()}"
                time.sleep(0.1)
        yield started
    finally:
        for server in started:
            server.stop()


def answers(server: HttpServer) -> bool:
    """True when the server answers ``/healthz`` at all (200 or 503)."""
    try:
        httpx2.get(f"{server.base}/healthz", timeout=2)
    except httpx2.TransportError:
        return False
    return True


def pg_cli(home: Path, url: str, *args: str) -> CliResult:
    """The real CLI on the PostgreSQL store at ``url``."""
    return run_cli(
        "--database-url", url, *args, home=home, env={"PBA_TUNNEL_SEED": "0", "PBA_TUNNEL_LOG_LEVEL": "warning"}
    )


def health(server: HttpServer) -> dict[str, Any]:
    """The server's ``/healthz`` body (with its status code under ``http_status``)."""
    response = httpx2.get(f"{server.base}/healthz", timeout=10)
    return {**response.json(), "http_status": response.status_code}


async def next_change(subscription: Subscription, within: float) -> float:
    """Seconds until the next prompts-list change on a ``subscriptions/listen`` stream (fails after ``within``)."""
    start = time.perf_counter()
    with anyio.fail_after(within):
        while type(await subscription.__anext__()).__name__ != "PromptsListChanged":
            pass
    return time.perf_counter() - start


def greet_version(greeting: str) -> str:
    """A version of ``greet`` whose output starts with ``greeting``."""
    front = "---\ndescription: Greets someone.\narguments:\n  - name: who\n    description: Who\n---\n"
    return f"{front}{greeting} {{{{ who }}}}!\n"


def text_of(result: CallToolResult) -> str:
    """The text of a tool result."""
    content = result.content[0]
    assert isinstance(content, TextContent)
    return content.text


async def update(client: Client, name: str, source: str, expected_version: int | None = None) -> CallToolResult:
    """``update_template`` through ``client``."""
    arguments: dict[str, Any] = {"name": name, "source": source}
    if expected_version is not None:
        arguments["expected_version"] = expected_version
    return await client.call_tool("update_template", arguments)
