"""The HTTP suite: streamable HTTP under 1, 10 and 50 concurrent clients, against baselines in the same run.

Each server answers a mix of ``prompts/get`` and ``tools/call`` for a bounded time: ours stateful and
``--stateless`` (a 3-argument template rendered by ``prompts/get`` and by ``render_template``), the Node
reference server (``args-prompt`` and ``echo``) and a stock ``MCPServer`` (a one-argument prompt and a tool).
Ours is loaded stateful as started by default (JSON answers: these clients declare no sampling), stateful with
``PBA_TUNNEL_HTTP_RESPONSES=sse`` (SSE answers, as a client that declares sampling gets) and ``--stateless``.
Figures: requests per second, server CPU per request (Linux: from ``/proc``), p99 latency and errors.
The load generator runs on one CPU and the server on the other when the OS allows pinning.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio

from .fill import cli_env, fill_store
from .http_load import Load, Request, run_load
from .peers import EVERYTHING, node_reference
from .report import Figure, versus
from .stdio_suite import BENCH_ARGUMENTS, bench_rows

STOCK_HTTP = """
import sys
from mcp.server import MCPServer
mcp = MCPServer("hello")
@mcp.prompt(description="Say hello")
def hello(who: str) -> str:
    return f"Hello {who}"
@mcp.tool(description="Echo a message")
def echo(message: str) -> str:
    return message
mcp.run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
"""
# Our servers: stateful (JSON answers to these clients), stateful with SSE answers, stateless (JSON answers).
OURS = {"ours": "", "ours sse": "_sse", "ours --stateless": "_stateless"}
# Targets of issue 15 at 50 clients.
CPU_MS, VS_NODE, P99_MS = 1.0, 0.6, 100.0


@dataclass
class Peer:
    """A server to load: how to start it on a port, and the requests its clients send in turn."""

    name: str
    command: Callable[[int], list[str]]
    requests: Sequence[Request]
    env: dict[str, str]
    profile: Path | None = None  # where its main thread's cProfile statistics of the last load go


@dataclass
class Result:
    """One server under one number of clients."""

    rps: float
    cpu_ms: float | None
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of a process (all its threads); None where ``/proc`` is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float | None:
    """:func:`cpu_seconds` of a process and its children (``serve --workers``); None where ``/proc`` is missing."""
    own = cpu_seconds(pid)
    if own is None:
        return None
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    own += cpu_seconds(int(entry.name)) or 0.0
    return own


def main_thread_share(pid: int, before: dict[int, float], after: dict[int, float]) -> str:
    """How a process's CPU time between two :func:`thread_seconds` split between its main thread and the rest."""
    spent = {tid: after[tid] - before.get(tid, 0.0) for tid in after}
    main = spent.pop(pid, 0.0)
    return f"main thread {main:.2f} s CPU, {len(spent)} other threads {sum(spent.values()):.2f} s"


def thread_seconds(pid: int) -> dict[int, float]:
    """CPU seconds of each thread of a process (Linux ``/proc``; empty elsewhere)."""
    spent = {}
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                spent[int(task.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return spent


def wait_listening(port: int, process: subprocess.Popen[bytes], seconds: float = 60.0) -> None:
    """Block until something accepts connections on ``port`` (RuntimeError when the server exits first)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}) before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {seconds:g} s")


@contextlib.contextmanager
def running(peer: Peer, cpu: int | set[int] | None) -> Iterator[tuple[int, int]]:
    """The peer's server started on a free port (pinned to ``cpu`` or to a set of CPUs); yields (port, pid)."""
    port = free_port()
    cpus = {cpu} if isinstance(cpu, int) else cpu
    process = subprocess.Popen(
        peer.command(port),
        env={**peer.env, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus is not None else None,
    )
    try:
        wait_listening(port, process)
        yield port, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(
    peer: Peer,
    clients: Sequence[int],
    seconds: float,
    cpu: int | set[int] | None,
    log: Callable[[str], None] | None = None,
) -> dict[int, Result]:
    """Load one server at each number of clients in turn (one warm-up round first)."""
    results: dict[int, Result] = {}
    with running(peer, cpu) as (port, pid):
        asyncio.run(run_load("127.0.0.1", port, "/mcp", peer.requests, clients=2, seconds=min(1.0, seconds)))
        for count in clients:
            profiling = peer.profile is not None and count == clients[-1]
            if profiling:
                os.kill(pid, signal.SIGUSR1)
                threads = thread_seconds(pid)
            before = tree_cpu_seconds(pid)
            load = asyncio.run(run_load("127.0.0.1", port, "/mcp", peer.requests, clients=count, seconds=seconds))
            after = tree_cpu_seconds(pid)
            if profiling and peer.profile is not None:
                os.kill(pid, signal.SIGUSR2)
                share = main_thread_share(pid, threads, thread_seconds(pid))
                wait_written(peer.profile)
                if log is not None:
                    collector = peer.profile.with_suffix(".gc.txt").read_text()
                    log(f"{peer.name}: {share}; garbage collector: {collector}")
            results[count] = summarise(load, None if before is None or after is None else after - before)
    return results


def wait_written(path: Path, seconds: float = 30.0) -> None:
    """Block until the profiled server has written its statistics to ``path``."""
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # dump_stats writes in one go; leave it time to finish


def summarise(load: Load, cpu: float | None) -> Result:
    """Throughput, CPU per request and latency percentiles of one load."""
    done = sorted(load.latencies)
    count = len(done)

    def pct(q: float) -> float:
        return done[min(count - 1, int(q * count))] * 1000 if done else float("nan")

    return Result(
        rps=count / load.seconds if load.seconds else 0.0,
        cpu_ms=cpu / count * 1000 if cpu is not None and count else None,
        p50_ms=pct(0.50),
        p99_ms=pct(0.99),
        errors=len(load.errors),
    )


def peers(root: Path, home: Path, log: Callable[[str], None], profile: Path | None = None) -> list[Peer]:
    """Ours stateful and stateless, the Node reference server when installed, and a stock MCPServer.

    With ``profile`` (a folder), ours run under cProfile (``profiled.py``) and leave NAME.pstats there.
    """
    name = "bench-000050"
    ours_requests: list[Request] = [
        ("prompts/get", {"name": name, "arguments": BENCH_ARGUMENTS}),
        ("tools/call", {"name": "render_template", "arguments": {"name": name, "arguments": BENCH_ARGUMENTS}}),
    ]
    env = {**cli_env(home), "PBA_TUNNEL_LOG_LEVEL": "warning"}

    def ours(*extra: str, name: str = "") -> Callable[[int], list[str]]:
        runner = ["pba_tunnel"] if profile is None else ["tests.bench.profiled", str(stats_file(profile, name))]
        return lambda port: [
            sys.executable,
            "-m",
            *runner,
            "serve",
            "--transport",
            "http",
            "--port",
            str(port),
            *extra,
        ]

    sse_env = {**env, "PBA_TUNNEL_HTTP_RESPONSES": "sse"}
    found = [
        Peer("ours", ours(name="ours"), ours_requests, env),
        Peer("ours sse", ours(name="ours sse"), ours_requests, sse_env),
        Peer("ours --stateless", ours("--stateless", name="ours --stateless"), ours_requests, env),
    ]
    if profile is not None:
        for peer in found:
            peer.profile = stats_file(profile, peer.name)
    node = node_reference(log)
    if node is not None:
        found.append(
            Peer(
                "Node reference",
                lambda _port: [node[0], node[1], "streamableHttp"],
                [
                    ("prompts/get", {"name": "args-prompt", "arguments": {"city": "Paris", "state": "TX"}}),
                    ("tools/call", {"name": "echo", "arguments": {"message": "MCP lets clients discover prompts."}}),
                ],
                dict(os.environ),
            )
        )
    stock = root / "stock_http.py"
    stock.write_text(STOCK_HTTP)
    found.append(
        Peer(
            "stock MCPServer",
            lambda port: [sys.executable, str(stock), str(port)],
            [
                ("prompts/get", {"name": "hello", "arguments": {"who": "bench"}}),
                ("tools/call", {"name": "echo", "arguments": {"message": "MCP lets clients discover prompts."}}),
            ],
            dict(os.environ),
        )
    )
    return found


def stats_file(folder: Path, name: str) -> Path:
    """Where the profile of server ``name`` goes."""
    return folder / (name.replace(" ", "_").replace("-", "") + ".pstats")


def pinning() -> tuple[int | None, int | None]:
    """(server CPU, load-generator CPU): two distinct CPUs where the OS allows pinning, else (None, None)."""
    if not hasattr(os, "sched_setaffinity"):
        return None, None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    os.sched_setaffinity(0, {cpus[-1]})
    return cpus[0], cpus[-1]


def run_http(
    *,
    clients: Sequence[int],
    seconds: float,
    templates: int,
    log: Callable[[str], None],
    only: str | None = None,
    profile: Path | None = None,
) -> list[Figure]:
    """Measure every figure of the HTTP suite; see the module docstring (``profile``: see :func:`peers`)."""
    server_cpu, _ = pinning()
    if profile is not None:
        profile = profile.resolve()
        profile.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[int, Result]] = {}
    with tempfile.TemporaryDirectory(prefix="pba-bench-http-") as tmp:
        root = Path(tmp)
        home = root / "store"
        log(f"filling a store with {templates:,} templates ...")
        anyio.run(fill_store, home, bench_rows(templates))
        for peer in peers(root, home, log, profile):
            if only is not None and only not in peer.name:
                continue
            log(f"{peer.name}: {', '.join(map(str, clients))} clients, {seconds:g} s each ...")
            try:
                results[peer.name] = measure(peer, clients, seconds, server_cpu, log)
            except RuntimeError as exc:
                log(f"{peer.name}: not measured: {exc}")
    return figures(results, clients)


def figures(results: dict[str, dict[int, Result]], clients: Sequence[int]) -> list[Figure]:
    """Throughput vs Node and vs stock, CPU per request, p99 and errors of ours, at each number of clients."""
    out: list[Figure] = []
    node, stock = results.get("Node reference", {}), results.get("stock MCPServer", {})
    most = max(clients)
    for name in OURS:
        for count in clients:
            if count not in results.get(name, {}):
                continue
            r = results[name][count]
            key = f"http{OURS[name]}_{count}"
            what = f"streamable HTTP, {name}, {count} clients, prompts/get + render_template"
            judged = count == most and name != "ours sse"  # the targets are for what clients get by default
            n, s = node.get(count), stock.get(count)
            out.append(
                versus(f"{key}_rps_vs_node", what, r.rps, "req/s", f"Node reference ({EVERYTHING})", n and n.rps, None)
            )
            if judged and n is not None:
                out[-1].target, out[-1].ok = f"≥ {VS_NODE:g}x Node reference", r.rps / n.rps >= VS_NODE
            out.append(versus(f"{key}_rps_vs_stock", what, r.rps, "req/s", "stock MCPServer", s and s.rps, None))
            if r.cpu_ms is not None:
                out.append(
                    versus(
                        f"{key}_cpu",
                        f"{what}: server CPU per request",
                        r.cpu_ms,
                        "ms",
                        "Node reference",
                        n and n.cpu_ms,
                        None,
                    )
                )
                if judged:
                    out[-1].target, out[-1].ok = f"≤ {CPU_MS:g} ms", r.cpu_ms <= CPU_MS
            out.append(
                versus(f"{key}_p99", f"{what}: p99 latency", r.p99_ms, "ms", "Node reference", n and n.p99_ms, None)
            )
            if judged:
                out[-1].target, out[-1].ok = f"≤ {P99_MS:g} ms", r.p99_ms <= P99_MS
            out.append(Figure(f"{key}_errors", f"{what}: errors", r.errors, "", target="0", ok=r.errors == 0))
    stateful, stateless = results.get("ours", {}).get(most), results.get("ours --stateless", {}).get(most)
    if stateful and stateless:
        out.append(
            versus(
                "http_stateless_vs_stateful",
                f"streamable HTTP, {most} clients: stateless throughput",
                stateless.rps,
                "req/s",
                "ours stateful",
                stateful.rps,
                None,
            )
        )
        out[-1].target, out[-1].ok = "≥ 1x ours stateful", stateless.rps >= stateful.rps * 0.97
    for name, by_count in results.items():  # every server's raw figures, for the record
        for count, r in by_count.items():
            cpu = f"{r.cpu_ms:.2f} ms CPU/req, " if r.cpu_ms is not None else ""
            out.append(
                Figure(
                    f"http_raw_{name}_{count}".replace(" ", "_").replace("-", ""),
                    f"[{name}, {count} clients] {cpu}p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms, {r.errors} errors",
                    r.rps,
                    "req/s",
                )
            )
    return out
