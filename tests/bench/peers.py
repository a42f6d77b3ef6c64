"""The servers under test and the one minimal JSON-RPC client that drives each of them over stdio.

Client and server are pinned to one CPU where the OS allows it: on a shared two-core machine, cross-core
wake-ups otherwise swing a round trip between ~40 and ~120 µs from one run to the next, which would make
any ratio noise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from tests.clients.node_clients import INSTALLER, NodeClients, cache_dir

EVERYTHING = "@modelcontextprotocol/server-everything"
HELLO_WORLD = """
from mcp.server import MCPServer
mcp = MCPServer("hello")
@mcp.prompt(description="Say hello")
def hello(who: str) -> str:
    return f"Hello {who}"
mcp.run()
"""
# The same server with ``count`` prompts: the baseline for a first prompts/list that carries that many.
STOCK_PROMPTS = """
from mcp.server import MCPServer
mcp = MCPServer("hello")
def greeter(index: int):
    def hello(who: str) -> str:
        return f"Hello {{who}} from {{index}}"
    return hello
for index in range({count}):
    mcp.prompt(name=f"hello-{{index:06d}}", description="Say hello")(greeter(index))
mcp.run()
"""
INITIALIZE = {
    "protocolVersion": "2025-11-25",
    "capabilities": {},
    "clientInfo": {"name": "pba-tunnel-bench", "version": "1"},
}
OURS = [sys.executable, "-m", "pba_tunnel", "serve"]
TRANSPORT_OPTION = "--stdio-transport"


class StdioPeer:
    """A server subprocess spoken to with newline-delimited JSON-RPC, one request at a time."""

    def __init__(self, command: Sequence[str], env: dict[str, str], cpu: int | None) -> None:
        self.started = time.perf_counter()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115  (closed by close())
        self.process = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            preexec_fn=(lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None,
        )
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self._in: IO[bytes] = self.process.stdin
        self._out: IO[bytes] = self.process.stdout
        self._next_id = 0
        self.call("initialize", INITIALIZE)
        self.initialize_seconds = time.perf_counter() - self.started
        self._in.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        self._in.flush()

    def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send one request and wait for its response (notifications in between are skipped)."""
        self._next_id += 1
        request_id = self._next_id
        line = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        self._in.write(line.encode() + b"\n")
        self._in.flush()
        while True:
            raw = self._out.readline()
            if not raw:
                self.process.wait()
                self._stderr.seek(0)
                tail = self._stderr.read().decode(errors="replace").strip()[-800:]
                raise RuntimeError(f"the server exited ({self.process.returncode}) while answering {method}: {tail}")
            message: dict[str, Any] = json.loads(raw)
            if message.get("id") == request_id:
                if "error" in message:
                    raise RuntimeError(f"{method} failed: {message['error']}")
                return message

    def timed(self, method: str, params: dict[str, Any], calls: int) -> list[float]:
        """Latencies in µs of ``calls`` sequential requests (after a short warm-up)."""
        for _ in range(min(200, calls)):
            self.call(method, params)
        samples = []
        for _ in range(calls):
            started = time.perf_counter()
            self.call(method, params)
            samples.append((time.perf_counter() - started) * 1e6)
        return samples

    def close(self) -> None:
        """End the server."""
        self._in.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._out.close()
        self._stderr.close()


def cold_start(command: Sequence[str], env: dict[str, str]) -> tuple[float, float]:
    """Milliseconds from spawn to ``initialize`` answered, and to the first ``prompts/list`` answered."""
    peer = StdioPeer(command, env, None)
    try:
        peer.call("prompts/list", {})
        listed = time.perf_counter() - peer.started
        return peer.initialize_seconds * 1000, listed * 1000
    finally:
        peer.close()


def spawn_to_line(command: Sequence[str], env: dict[str, str]) -> float:
    """Milliseconds from spawn to the first line the process writes to stdout (its exit is not waited for)."""
    started = time.perf_counter()
    process = subprocess.Popen(list(command), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()
    elapsed = (time.perf_counter() - started) * 1000
    process.stdout.close()
    if process.wait() != 0 or not line:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}) before writing a line")
    return elapsed


def pin_cpu() -> int | None:
    """Pin this process to its last allowed CPU (inherited by the servers it starts); None where unsupported."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[-1]})
    return cpus[-1]


def stock_server(folder: Path, prompts: int | None = None) -> list[str]:
    """The command of a stock ``MCPServer`` hello-world with one prompt (or ``prompts``), written into ``folder``."""
    script = folder / ("hello_world.py" if prompts is None else f"hello_{prompts}.py")
    script.write_text(HELLO_WORLD if prompts is None else STOCK_PROMPTS.format(count=prompts))
    return [sys.executable, str(script)]


def our_transports(log: Callable[[str], None]) -> dict[str, list[str]]:
    """Our stdio server's command for each stdio transport it offers ("auto" and "portable" when it has both)."""
    shown = subprocess.run([*OURS, "--help"], capture_output=True, text=True, check=True).stdout
    if TRANSPORT_OPTION not in shown:
        log(f"`pba-tunnel serve` has no {TRANSPORT_OPTION} option: the portable-transport figures are skipped")
        return {"auto": OURS}
    return {name: [*OURS, TRANSPORT_OPTION, name] for name in ("auto", "portable")}


def node_reference(log: Callable[[str], None]) -> list[str] | None:
    """The Node reference server's command, from the cache the Node-client tests use; None when not installed."""
    clients = NodeClients(cache_dir())
    script = clients.root / "node_modules" / EVERYTHING / "dist" / "index.js"
    if not (script.is_file() and clients.node.is_file()):
        log(
            f"the Node reference server ({EVERYTHING}) is not installed in {clients.root}: "
            f"run {INSTALLER.relative_to(INSTALLER.parents[1])} to install it; its baselines are skipped"
        )
        return None
    return [str(clients.node), str(script), "stdio"]
