"""What the MCP server tests share: template sources, in-process apps, servers in subprocesses, raw stdio."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.client.subscriptions import Subscription

from conftest import CliResult, cli_env, make_settings, run_cli
from pba_tunnel import startup
from pba_tunnel.server.app import McpApp
from pba_tunnel.server.slot import ServiceSlot
from pba_tunnel.service import TemplateService
from process_support import ServerProcess, free_port

WAIT_SECONDS = 15  # an upper bound for things that should take milliseconds; never a timing assertion
START_SECONDS = 120  # several servers starting at once on a busy 2-core machine (a first start seeds its store)

# A template with every kind of argument: required by flag, required by default, enum + default,
# a plain default, optional by flag; and system / user / assistant parts.
REVIEW_SOURCE = """---
name: code-review
title: Code review
description: Review code for bugs, risks and style.
tags: [review, quality]
arguments:
  - name: language
    description: Programming language of the code
    required: true
  - name: code
    description: The code or diff to review
  - name: focus
    description: What to look at first
    default: correctness
    enum: [correctness, security, performance, style]
  - name: audience
    description: Who reads the review
    default: beginners
  - name: tone
    description: How to phrase it
    required: false
---
system:
You are a meticulous senior {{ language }} reviewer.

user:
Review this code for {{ audience }}, focusing on {{ focus }}{% if tone %} ({{ tone }}){% endif %}:

{{ code }}

assistant:
I will start with {{ focus }}.
"""

GREET_SOURCE = """---
description: Greets someone.
arguments:
  - name: who
    description: Who to greet
---
Hello {{ who }}!
"""

# Runs for about 10^10 loop steps: only the render time limit stops it.
SPIN_SOURCE = """---
description: Spins until the render time limit stops it.
---
{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}done
"""


def greet_source(greeting: str = "Hello", description: str = "Greets someone.") -> str:
    """GREET_SOURCE with another greeting or description (a new version of ``greet``)."""
    return GREET_SOURCE.replace("Hello", greeting).replace("Greets someone.", description)


async def open_service(home: Path, **env: str) -> TemplateService:
    """An open service over a fresh SQLite store under ``home`` (unseeded unless ``PBA_TUNNEL_SEED=1``)."""
    return await startup.open_service(make_settings(home, **env))


async def prepare_store(home: Path, sources: dict[str, str]) -> None:
    """Create a store under ``home`` holding ``sources`` (name -> source), for servers started later."""
    service = await open_service(home)
    try:
        for name, source in sources.items():
            await service.create(source, name=name)
    finally:
        await service.close()


@asynccontextmanager
async def serving(service: TemplateService) -> AsyncIterator[McpApp]:
    """The MCP app over ``service`` with its change watcher running, as ``serve`` runs it."""
    app = McpApp(ServiceSlot.of(service))
    async with app.notifier.watching():
        yield app


def server_env(home: Path, **extra: str) -> dict[str, str]:
    """Environment of a server or CLI subprocess: the store under ``home``, no seeding, quiet logs."""
    return cli_env(home, PBA_TUNNEL_SEED="0", PBA_TUNNEL_LOG_LEVEL="warning", **extra)


def stdio_server(home: Path, *options: str, **env: str) -> StdioServerParameters:
    """``python -m pba_tunnel [options] serve`` on stdio over the store under ``home``."""
    return StdioServerParameters(
        command=sys.executable, args=["-m", "pba_tunnel", *options, "serve"], env=server_env(home, **env)
    )


def cli(home: Path, *args: str) -> CliResult:
    """The real CLI on the store under ``home`` (never seeding it)."""
    return run_cli(*args, home=home, env={"PBA_TUNNEL_SEED": "0", "PBA_TUNNEL_LOG_LEVEL": "warning"})


async def cli_in_thread(home: Path, *args: str) -> CliResult:
    """:func:`cli` without blocking the event loop (in-process servers keep serving meanwhile)."""
    return await anyio.to_thread.run_sync(lambda: cli(home, *args))


def template_file(home: Path, name: str, source: str) -> Path:
    """Write ``source`` to ``<home>/templates/<name>.md`` (a folder that implies no category)."""
    folder = home / "templates"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.md"
    path.write_text(source, encoding="utf-8")
    return path


class NotificationLog:
    """A ``message_handler`` that keeps the method of every notification a client receives."""

    def __init__(self) -> None:
        self.methods: list[str] = []
        self._arrived = anyio.Event()

    async def __call__(self, message: Any) -> None:
        method = getattr(message, "method", None)
        if isinstance(method, str):
            self.methods.append(method)
            self._arrived.set()

    def count(self, method: str) -> int:
        """How many ``method`` notifications arrived so far."""
        return self.methods.count(method)

    async def wait_for(self, method: str, count: int) -> None:
        """Wait until ``count`` notifications ``method`` have arrived in all."""
        with anyio.fail_after(WAIT_SECONDS):
            while self.count(method) < count:
                await self._arrived.wait()
                self._arrived = anyio.Event()


PROMPTS_CHANGED = "notifications/prompts/list_changed"
RESOURCES_CHANGED = "notifications/resources/list_changed"


async def next_changes(subscription: Subscription) -> set[str]:
    """The next change events of a ``subscriptions/listen`` stream: until prompts and resources both moved."""
    seen: set[str] = set()
    with anyio.fail_after(WAIT_SECONDS):
        while seen != {"PromptsListChanged", "ResourcesListChanged"}:
            seen.add(type(await subscription.__anext__()).__name__)
    return seen


def is_jsonrpc(line: bytes) -> bool:
    """True when ``line`` is one JSON-RPC 2.0 message: a response (result xor error) or a request/notification."""
    try:
        message = json.loads(line)
    except ValueError:
        return False
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return False
    if "method" in message:
        return isinstance(message["method"], str)
    return "id" in message and (("result" in message) != ("error" in message))


class RawStdio:
    """``python -m pba_tunnel ... serve`` spoken to line by line; every stdout line is kept for inspection."""

    def __init__(self, args: list[str], env: dict[str, str], stderr_path: Path) -> None:
        self._stderr_path = stderr_path
        self._stderr = stderr_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pba_tunnel", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )
        self.lines: list[bytes] = []
        self._incoming: queue.Queue[bytes] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._last_id = 0

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            self._incoming.put(line)
        self._incoming.put(b"")

    def send(self, message: dict[str, Any] | str) -> None:
        """Write one line: a message, or any text as it is."""
        assert self.process.stdin is not None
        text = message if isinstance(message, str) else json.dumps(message)
        self.process.stdin.write(text.encode() + b"\n")
        self.process.stdin.flush()

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a request and return its response (notifications in between are only kept in ``lines``)."""
        self._last_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self._last_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            line = self._incoming.get(timeout=max(deadline - time.monotonic(), 0.001))
            if not line:
                raise AssertionError(f"the server closed stdout before answering {method}: {self.stderr()}")
            response = json.loads(line)
            if response.get("id") == self._last_id:
                return dict(response)

    def initialize(self) -> dict[str, Any]:
        """The handshake of a 2025-11-25 client; returns the initialize result."""
        response = self.request(
            "initialize",
            {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw-test", "version": "1"}},
        )
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return dict(response["result"])

    def close(self) -> int:
        """Close stdin (the client leaves), wait for the server to exit and return its exit code."""
        try:
            if self.process.stdin is not None and not self.process.stdin.closed:
                self.process.stdin.close()
            return self.process.wait(timeout=WAIT_SECONDS)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self._reader.join(timeout=WAIT_SECONDS)
            self._stderr.close()

    def stderr(self) -> str:
        """What the server wrote to stderr so far."""
        return self._stderr_path.read_text(encoding="utf-8", errors="replace")


@contextmanager
def raw_stdio(home: Path, *options: str, transport: str = "auto", **env: str) -> Iterator[RawStdio]:
    """A :class:`RawStdio` server over the store under ``home``, always stopped afterwards.

    ``transport`` is ``serve --stdio-transport``: auto (the Unix pipe transport here) or portable (the SDK's).
    """
    session = RawStdio(
        [*options, "serve", "--stdio-transport", transport], server_env(home, **env), home / "server-stderr.log"
    )
    try:
        yield session
    finally:
        session.close()


class HttpServer(ServerProcess):
    """``pba-tunnel serve --transport http|sse`` on a loopback address (127.0.0.1 unless ``host``) in a subprocess."""

    def __init__(self, home: Path, *options: str, env: dict[str, str] | None = None, host: str = "127.0.0.1") -> None:
        self.port = free_port()
        argv = [sys.executable, "-m", "pba_tunnel", "serve", "--host", host, "--port", str(self.port), *options]
        base = f"http://{host}:{self.port}"
        super().__init__(argv, server_env(home, **(env or {})), home / f"http-{self.port}.log", base, START_SECONDS)


@contextmanager
def http_servers(*servers: Callable[[], HttpServer]) -> Iterator[list[HttpServer]]:
    """Start several servers at once (their start-ups overlap), wait for all, stop all afterwards."""
    started: list[HttpServer] = []
    try:
        for start in servers:
            started.append(start())
        for server in started:
            server.wait_ready()
        yield started
    finally:
        for server in started:
            server.stop()


@asynccontextmanager
async def bearer_client(base: str, secret: str) -> AsyncIterator[Client]:
    """The SDK's client over streamable HTTP to ``base``/mcp, sending ``secret`` as its bearer token."""
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {secret}"}, timeout=WAIT_SECONDS) as http,
        Client(streamable_http_client(f"{base}/mcp", http_client=http), mode="legacy", cache=None) as client,
    ):
        yield client
