"""PostgreSQL against SQLite over HTTP: the same server, the same templates, ``prompts/get`` with a warm cache.

Two stores hold the stdio suite's generated templates: a SQLite file and a database on a throwaway PostgreSQL
server (``tests/postgres_server.py``) or ``--pg-url``. Our stateful HTTP server is started on each in turn (twice,
alternating, so a drift of the machine hits both) and loaded with ``prompts/get`` and ``render_template`` by the
HTTP suite's client. Figures: PostgreSQL's p50 latency and CPU per request against SQLite's in the same run
(issue 11's target: within 1.1x). Then ``serve --stateless --workers 2`` against ``--workers 1`` on the same
PostgreSQL database, alternating as above, under the most clients: throughput and CPU per request of the process
tree (issue 15's target: 2 workers serve at least 1.7x the requests of one). The workers may use every CPU; the
load generator keeps its own.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import anyio

from .fill import insert_rows
from .http_suite import Peer, Result, measure, peers, pinning
from .report import Figure, versus
from .stdio_suite import bench_rows

LIMIT = 1.1
ROUNDS = 2
WORKERS_SCALING = 1.7  # issue 15: throughput of 2 workers against 1


def _ours_on(home: Path, root: Path, database_url: str | None, log: Callable[[str], None]) -> Peer:
    ours = peers(root, home, log)[0]  # our stateful server with the HTTP suite's requests
    env = dict(ours.env) | ({"PBA_TUNNEL_DATABASE_URL": database_url} if database_url else {})
    return Peer(ours.name, ours.command, ours.requests, env)


def _workers_on(peer: Peer, workers: int) -> Peer:
    """Our stateless server with ``workers`` processes, otherwise as ``peer``."""

    def command(port: int) -> list[str]:
        return [*peer.command(port), "--stateless", "--workers", str(workers)]

    return Peer(f"ours --stateless --workers {workers}", command, peer.requests, peer.env)


def _median(results: Sequence[Result], pick: Callable[[Result], float | None]) -> float | None:
    values = [v for v in (pick(r) for r in results) if v is not None]
    return statistics.median(values) if values else None


def _measure(
    templates: int, clients: Sequence[int], seconds: float, url: str, log: Callable[[str], None]
) -> list[Figure]:
    server_cpu, _ = pinning()
    with tempfile.TemporaryDirectory(prefix="pba-bench-pg-http-") as tmp:
        root = Path(tmp)
        log(f"filling SQLite and PostgreSQL with {templates:,} templates ...")
        anyio.run(lambda: insert_rows(root / "sqlite", bench_rows(templates)))
        anyio.run(lambda: insert_rows(root / "pg", bench_rows(templates), database_url=url))
        stores = {
            "SQLite": _ours_on(root / "sqlite", root, None, log),
            "PostgreSQL": _ours_on(root / "pg", root, url, log),
        }
        runs: dict[str, dict[int, list[Result]]] = {name: {c: [] for c in clients} for name in stores}
        for round_number in range(ROUNDS):
            for name, peer in stores.items():
                log(f"round {round_number + 1}: ours on {name}, {', '.join(map(str, clients))} clients ...")
                for count, result in measure(peer, clients, seconds, server_cpu).items():
                    runs[name][count].append(result)
        most = max(clients)
        every_cpu = None if server_cpu is None else set(os.sched_getaffinity(0)) | {server_cpu}
        scaled: dict[int, list[Result]] = {1: [], 2: []}
        for round_number in range(ROUNDS):
            for workers in scaled:
                log(f"round {round_number + 1}: ours --stateless --workers {workers} on PostgreSQL, {most} clients ...")
                peer = _workers_on(stores["PostgreSQL"], workers)
                scaled[workers].append(measure(peer, [most], seconds, every_cpu)[most])
    figures = []
    for count in clients:
        pg, lite = runs["PostgreSQL"][count], runs["SQLite"][count]
        errors = sum(r.errors for r in pg + lite)
        for key, label, pick, unit in (
            ("p50", "p50 latency", lambda r: r.p50_ms, "ms"),
            ("cpu", "server CPU per request", lambda r: r.cpu_ms, "ms"),
        ):
            value = _median(pg, pick)
            if value is None:
                continue
            figures.append(
                versus(
                    f"pg_http_{key}_{count}",
                    f"prompts/get + render_template over HTTP on PostgreSQL, {count} clients, {label}"
                    f" ({errors} errors)",
                    value,
                    unit,
                    "the same server on SQLite",
                    _median(lite, pick),
                    LIMIT,
                )
            )
    return figures + _scaling(scaled, most)


def _scaling(scaled: dict[int, list[Result]], clients: int) -> list[Figure]:
    """Throughput of 2 workers against 1 (judged), and CPU per request of each."""
    one, two = _median(scaled[1], lambda r: r.rps), _median(scaled[2], lambda r: r.rps)
    errors = sum(r.errors for results in scaled.values() for r in results)
    if one is None or two is None:
        return []
    figure = versus(
        "pg_http_workers_2_vs_1",
        f"stateless HTTP on PostgreSQL, {clients} clients, serve --workers 2: throughput ({errors} errors)",
        two,
        "req/s",
        "the same with --workers 1",
        one,
        None,
    )
    figure.target, figure.ok = f"≥ {WORKERS_SCALING:g}x --workers 1", two / one >= WORKERS_SCALING
    out = [figure]
    for workers, results in scaled.items():
        cpu = _median(results, lambda r: r.cpu_ms)
        if cpu is not None:
            # CPUs busy = CPU per request x requests per second: when 2 workers keep no more CPUs busy than 1, the
            # machine had no more to give them (other programs, the load generator, PostgreSQL itself).
            busy = cpu * (_median(results, lambda r: r.rps) or 0) / 1000
            p99 = _median(results, lambda r: r.p99_ms) or 0
            out.append(
                Figure(
                    f"pg_http_workers_{workers}_cpu",
                    f"stateless HTTP on PostgreSQL, {clients} clients, serve --workers {workers}: CPU per request "
                    f"(all its processes; {busy:.2f} CPUs busy, p99 {p99:.0f} ms)",
                    cpu,
                    "ms",
                )
            )
    return out


def run_pg_http(
    *, templates: int, clients: Sequence[int], seconds: float, log: Callable[[str], None], url: str | None = None
) -> list[Figure]:
    """PostgreSQL against SQLite under our stateful HTTP server (a throwaway PostgreSQL server unless ``url``)."""
    if url is not None:
        return _measure(templates, clients, seconds, url, log)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, where the throwaway server lives
    from postgres_server import PostgresServer

    server = PostgresServer.create()
    try:
        server.start()
        return _measure(templates, clients, seconds, server.create_database("bench_http"), log)
    finally:
        server.destroy()
