"""The HTTP memory suite: our stateful HTTP server's resident memory at each step of a warm-up, then of searches.

One client over streamable HTTP walks every ``prompts/list`` page, gets 1,000 distinct prompts and runs four
searches (two that fall back to typo tolerance, which builds the name index); ``VmRSS`` is read from ``/proc``
after start-up and after each step. Issue 15's target: 150 MB after all of it at 100,000 templates.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from pathlib import Path

import anyio

from .fill import fill_store
from .http_load import HttpClient
from .http_suite import peers, running
from .report import Figure
from .stdio_suite import BENCH_ARGUMENTS, bench_rows

RSS_MB = 150.0
SEARCHES = ("databases", "security testing", "reveiw code", "opertions")


def resident_mb(pid: int) -> float | None:
    """A process's resident memory in MB; None without ``/proc``."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")) / 1024


async def _steps(port: int, pid: int, templates: int) -> list[tuple[str, float | None]]:
    client = HttpClient("127.0.0.1", port, "/mcp")
    await client.connect()
    steps = [("after start-up", resident_mb(pid))]
    cursor, pages = None, 0
    while True:
        page = await client.call("prompts/list", {"cursor": cursor} if cursor else {})
        pages, cursor = pages + 1, page.get("nextCursor")
        if not cursor:
            break
    steps.append((f"after every prompts/list page ({pages})", resident_mb(pid)))
    step = max(1, templates // 1000)
    for index in range(0, templates, step):
        await client.call("prompts/get", {"name": f"bench-{index:06d}", "arguments": BENCH_ARGUMENTS})
    steps.append(("after 1,000 distinct prompts/get", resident_mb(pid)))
    for query in SEARCHES:
        await client.call("tools/call", {"name": "search_templates", "arguments": {"query": query}})
    steps.append((f"after {len(SEARCHES)} searches", resident_mb(pid)))
    await client.close()
    return steps


def run_http_memory(*, templates: int, log: Callable[[str], None]) -> list[Figure]:
    """Our stateful HTTP server's RSS after start-up, listing, rendering and searching ``templates`` templates."""
    with tempfile.TemporaryDirectory(prefix="pba-bench-http-memory-") as tmp:
        root = Path(tmp)
        home = root / "store"
        log(f"filling a store with {templates:,} templates ...")
        anyio.run(fill_store, home, bench_rows(templates))
        ours = peers(root, home, log)[0]
        log("ours: listing, rendering and searching over HTTP ...")
        with running(ours, None) as (port, pid):
            steps = asyncio.run(_steps(port, pid, templates))
    figures = []
    for index, (what, megabytes) in enumerate(steps):
        if megabytes is None:
            continue
        last = index == len(steps) - 1
        figures.append(
            Figure(
                f"http_rss_{index}",
                f"stateful HTTP server RSS {what}, {templates:,} stored",
                megabytes,
                "MB",
                target=f"≤ {RSS_MB:g} MB" if last else "",
                ok=megabytes <= RSS_MB if last else None,
            )
        )
    return figures
