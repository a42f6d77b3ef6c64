"""The statistics suite: prompts/get p50 with usage statistics on and off, measured in the same run.

Two stdio servers over one store, one with ``PBA_TUNNEL_USAGE_STATS=0``; the calls alternate between them in
blocks, so a slow moment of the machine hits both alike. "Off" still records render events (completion learns
from them), so the ratio is the cost of the daily statistics: counting per template, version, label, client and
day, and merging the rows at each flush (every 0.2 s, off the request path but on the same CPU).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import anyio

from .fill import cli_env, fill_store
from .peers import OURS, StdioPeer, pin_cpu
from .report import Figure, p50, versus
from .stdio_suite import BENCH_ARGUMENTS, bench_rows

STATS_ON_VS_OFF = 1.1
BLOCKS = 10


def run_stats(*, calls: int, templates: int, log: Callable[[str], None]) -> list[Figure]:
    """prompts/get p50 with statistics on, against the same server with them off."""
    cpu = pin_cpu()
    with tempfile.TemporaryDirectory(prefix="pba-bench-stats-") as tmp:
        home = Path(tmp) / "store"
        log(f"filling a store with {templates:,} templates ...")
        anyio.run(fill_store, home, bench_rows(templates))
        params = {"name": f"bench-{templates // 2:06d}", "arguments": BENCH_ARGUMENTS}
        peers = {
            "on": StdioPeer(OURS, {**cli_env(home), "PBA_TUNNEL_USAGE_STATS": "1"}, cpu),
            "off": StdioPeer(OURS, {**cli_env(home), "PBA_TUNNEL_USAGE_STATS": "0"}, cpu),
        }
        log(f"prompts/get, {calls:,} calls to each server in {BLOCKS} alternating blocks ...")
        samples: dict[str, list[float]] = {"on": [], "off": []}
        try:
            for _ in range(BLOCKS):
                for state, peer in peers.items():
                    samples[state] += peer.timed("prompts/get", params, max(1, calls // BLOCKS))
        finally:
            for peer in peers.values():
                peer.close()
    return [
        versus(
            "get_stats_on_vs_off",
            f"prompts/get with usage statistics on, {templates:,} stored",
            p50(samples["on"]),
            "µs",
            "the same with statistics off",
            p50(samples["off"]),
            STATS_ON_VS_OFF,
        )
    ]
