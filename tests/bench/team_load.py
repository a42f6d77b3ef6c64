"""``python -m tests.bench.team_load``: two stateless instances on one PostgreSQL under mixed traffic.

Not part of the test suite. A throwaway PostgreSQL cluster, two ``serve --transport http --stateless`` processes
and N concurrent MCP clients per instance for a while: 80 % ``prompts/get``, 15 % ``search_templates``, 5 %
``update_template``. Reports requests/s, p50/p99 per kind and errors; then the same run with one instance killed
halfway (the clients then act as a load balancer would: a request that cannot connect marks that instance down
and goes elsewhere, so only requests in flight on the killed instance fail). Meanwhile a probe writes through
one instance and times how long a ``subscriptions/listen`` stream on the other takes to hear of it.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from tests.postgres_server import PostgresServer

from pba_tunnel.config import load_settings
from pba_tunnel.startup import open_service

TEMPLATES = 100
WORDS = ["review", "summary", "migration", "incident", "security", "tests", "release", "schema", "prompt", "email"]


def template(number: int, revision: int = 0) -> str:
    """A bench template: a few searchable words, one argument."""
    words = " ".join(WORDS[(number + i) % len(WORDS)] for i in range(3))
    return (
        f"---\ndescription: Bench template {number} about {words} (revision {revision}).\n"
        "arguments:\n  - name: who\n    description: Who it is for\n---\n"
        f"Dear {{{{ who }}}}, here is the {words} note number {number}, revision {revision}.\n"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Instance:
    """One ``pba-tunnel serve --transport http --stateless`` process."""

    def __init__(self, home: Path, url: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PBA_TUNNEL_")}
        env.update(
            PBA_TUNNEL_HOME=str(home), PBA_TUNNEL_DATABASE_URL=url, PBA_TUNNEL_SEED="0", PBA_TUNNEL_LOG_LEVEL="error"
        )
        command = [sys.executable, "-m", "pba_tunnel", "serve", "--transport", "http", "--stateless"]
        self.log = (home / f"instance-{self.port}.log").open("wb")
        self.process = subprocess.Popen([*command, "--port", str(self.port)], env=env, stdout=self.log, stderr=self.log)
        self.up = True

    def wait_ready(self, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if httpx2.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"instance on port {self.port} did not become ready")

    def kill(self) -> None:
        self.up = False
        self.process.kill()  # SIGKILL / TerminateProcess: no graceful anything
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.log.close()


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    notify_delays: list[float] = field(default_factory=list)
    seconds: float = 0.0


async def run_clients(instances: list[Instance], clients: int, seconds: float, kill_at: float | None) -> Results:
    """``clients`` per instance for ``seconds``; with ``kill_at``, the last instance is killed that far in."""
    results = Results()
    rng = random.Random(7)
    stop = anyio.Event()
    revision = Counter[int]()

    async def client_loop(home_index: int) -> None:
        while not stop.is_set():
            # The client's own instance while it lives, else a live one: what a load balancer's check would do.
            live = [i for i, instance in enumerate(instances) if instance.up]
            choice = home_index if instances[home_index].up else live[home_index % len(live)]
            try:
                await requests(choice)
            except Exception as exc:  # the SDK client ends when its server vanishes: its request in flight failed
                if instances[choice].up:
                    raise
                results.errors[f"in flight on the killed instance: {type(exc).__name__}"] += 1

    async def requests(choice: int) -> None:
        async with Client(f"{instances[choice].base}/mcp", cache=None) as session:
            while not stop.is_set() and instances[choice].up:
                roll = rng.random()
                number = rng.randrange(TEMPLATES)
                began = time.perf_counter()
                if roll < 0.80:
                    kind = "prompts/get"
                    await session.get_prompt(f"bench-{number}", {"who": "Ann"})
                elif roll < 0.95:
                    kind = "search"
                    words = " ".join(rng.sample(WORDS, 2))
                    result = await session.call_tool("search_templates", {"query": words, "limit": 5})
                    if result.is_error:
                        results.errors[f"search: {text(result)}"] += 1
                        continue
                else:
                    kind = "write"
                    revision[number] += 1
                    source = template(number, revision[number])
                    result = await session.call_tool("update_template", {"name": f"bench-{number}", "source": source})
                    if result.is_error:
                        results.errors[f"write: {text(result)}"] += 1
                        continue
                results.latencies[kind].append(time.perf_counter() - began)

    async def probe() -> None:
        """``probe_writes``; closing the session of an instance killed under it fails, which changes no figure."""
        try:
            await probe_writes()
        except Exception:
            if instances[-1].up:
                raise

    async def probe_writes() -> None:
        """Write ``probe`` through the last live instance; time until a listener on the first hears of it."""
        async with (
            Client(f"{instances[0].base}/mcp", cache=None) as listener,
            Client(f"{instances[-1].base}/mcp", cache=None) as writer_last,
            Client(f"{instances[0].base}/mcp", cache=None) as writer_first,
            listener.listen(resource_subscriptions=["template://probe"]) as subscription,
        ):
            number = 0
            while not stop.is_set():
                number += 1
                writer = writer_last if instances[-1].up else writer_first
                acknowledged: list[float] = []

                async def write(client: Client, revision: int, acknowledged: list[float]) -> None:
                    arguments = {"name": "probe", "source": template(0, revision)}
                    try:
                        result = await client.call_tool("update_template", arguments)
                    except Exception:  # the writer's instance was killed under it
                        return
                    if not result.is_error:
                        acknowledged.append(time.perf_counter())

                heard_at = None
                async with anyio.create_task_group() as group:
                    group.start_soon(write, writer, number, acknowledged)
                    with anyio.move_on_after(5):
                        await subscription.__anext__()
                        heard_at = time.perf_counter()
                if heard_at is not None and acknowledged:
                    # Heard before the acknowledgement came back counts as 0.
                    results.notify_delays.append(max(heard_at - acknowledged[0], 0.0))
                await anyio.sleep(0.5)

    start = time.perf_counter()
    async with anyio.create_task_group() as group:
        for index in range(len(instances)):
            for _ in range(clients):
                group.start_soon(client_loop, index)
        group.start_soon(probe)
        if kill_at is not None:
            await anyio.sleep(kill_at)
            await anyio.to_thread.run_sync(instances[-1].kill)
            await anyio.sleep(seconds - kill_at)
        else:
            await anyio.sleep(seconds)
        stop.set()
    results.seconds = time.perf_counter() - start
    return results


def text(result: Any) -> str:
    """The start of a tool result's text."""
    return str(result.content[0].text)[:80]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * share), len(ordered) - 1)] * 1000 if ordered else float("nan")


def report(title: str, results: Results) -> None:
    total = sum(len(v) for v in results.latencies.values())
    errors = sum(results.errors.values())
    print(f"\n{title}: {total / results.seconds:.0f} req/s ({total} ok, {errors} errors in {results.seconds:.0f} s)")
    for kind, values in sorted(results.latencies.items()):
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        print(f"  {kind:12} n={len(values):6}  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms")
    for error, count in results.errors.most_common(5):
        print(f"  error x{count}: {error}")
    delays = results.notify_delays
    if delays:
        print(
            f"  notification delay across instances (write acknowledged -> listener hears): n={len(delays)} "
            f"p50 {statistics.median(delays) * 1000:.0f} ms, p99 {percentile(delays, 0.99):.0f} ms"
        )


async def prepare(home: Path, url: str) -> None:
    environment = {"PBA_TUNNEL_HOME": str(home), "PBA_TUNNEL_DATABASE_URL": url, "PBA_TUNNEL_SEED": "0"}
    service = await open_service(load_settings(environment))
    try:
        await service.create(template(0), name="probe")
        for number in range(TEMPLATES):
            await service.create(template(number), name=f"bench-{number}")
    finally:
        await service.close()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.team_load", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each run (60)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients per instance (50)")
    args = parser.parse_args()
    postgres = PostgresServer.create()
    home = Path(tempfile.mkdtemp(prefix="pba-team-load-"))
    try:
        postgres.start()
        for phase, kill_at in (("steady", None), ("one instance killed halfway", args.seconds / 2)):
            url = postgres.create_database("load")
            anyio.run(prepare, home, url)
            instances = [Instance(home, url), Instance(home, url)]
            try:
                for instance in instances:
                    instance.wait_ready()
                results = anyio.run(run_clients, instances, args.clients, args.seconds, kill_at)
            finally:
                for instance in instances:
                    instance.stop()
            report(f"2 instances x {args.clients} clients, {phase}", results)
    finally:
        postgres.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
