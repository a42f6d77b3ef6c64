"""The store suite (issue 16, parse once): importing template files, bytes per template, and the first
``prompts/get`` of a template not used yet against the cached one, all in the same run.

Imports run ``pba-tunnel import FOLDER`` as a user would (a subprocess, progress bar off as output is piped),
on generated 3-argument templates spread over folders (categories).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .fill import cli_env
from .peers import StdioPeer, our_transports, pin_cpu
from .report import Figure, p50, versus
from .stdio_suite import BENCH_ARGUMENTS, BENCH_TEMPLATE, TOPICS

FIRST_GET_VS_CACHED, FIRST_GET_MS = 10.0, 2.0
IMPORT_SECONDS = {10_000: 20.0, 100_000: 180.0}  # the targets; other sizes are reported


def write_files(folder: Path, count: int) -> int:
    """``count`` template files under ``folder``, one sub-folder per topic; returns their total bytes."""
    total = 0
    for index in range(count):
        topic = TOPICS[index % len(TOPICS)]
        source = BENCH_TEMPLATE.format(name=f"bench-{index:06d}", index=index, topic=topic)
        target = folder / topic / f"bench-{index:06d}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8")
        total += len(source.encode())
    return total


def timed_import(home: Path, folder: Path) -> tuple[float, float]:
    """Seconds ``pba-tunnel import FOLDER`` takes, start to exit, and the CPU seconds it used (a figure that a
    busy machine inflates far less); RuntimeError when a file failed."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pba_tunnel", "import", str(folder)],
        env=cli_env(home),
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or "failed 0" not in done.stdout:
        raise RuntimeError(f"pba-tunnel import failed ({done.returncode}): {(done.stdout + done.stderr)[-500:]}")
    return elapsed, _children_cpu() - cpu_before


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def store_bytes(home: Path) -> tuple[int, int]:
    """The store file's size after a checkpoint, and how much of it the full-text index takes (0: unknown)."""
    path = home / "pba-tunnel.db"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        try:  # dbstat is compiled into most SQLite builds, not all
            index = connection.execute(
                "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE 'templates_fts%'"
            ).fetchone()[0]
        except sqlite3.OperationalError:
            index = 0
    return path.stat().st_size, int(index)


def _import_figures(root: Path, count: int, log: Callable[[str], None]) -> tuple[list[Figure], Path]:
    folder, home = root / f"files-{count}", root / f"store-{count}"
    source_bytes = write_files(folder, count)
    log(f"pba-tunnel import of {count:,} files ...")
    seconds, cpu = timed_import(home, folder)
    again, again_cpu = timed_import(home, folder)
    limit = IMPORT_SECONDS.get(count)
    size, index = store_bytes(home)
    index_note = f", of which the full-text index {index / count:,.0f}" if index else ""
    figures = [
        Figure(
            f"import_{count}",
            f"pba-tunnel import of {count:,} template files into an empty store (CPU {cpu:.1f} s)",
            seconds,
            "s",
            target=f"≤ {limit:g} s" if limit else "reported",
            ok=seconds <= limit if limit else None,
        ),
        Figure(
            f"reimport_{count}",
            f"pba-tunnel import of the same {count:,} files again, nothing changed (CPU {again_cpu:.1f} s)",
            again,
            "s",
            target="reported",
        ),
        Figure(
            f"bytes_per_template_{count}",
            f"store bytes per template at {count:,}{index_note}",
            size / count,
            "B",
            "the template's own source",
            source_bytes / count,
            size / source_bytes,
            "reported",
            None,
        ),
    ]
    return figures, home


def _first_gets(home: Path, count: int, calls: int, log: Callable[[str], None]) -> list[Figure]:
    command = our_transports(log)["auto"]
    peer = StdioPeer(command, cli_env(home), pin_cpu())
    try:
        log(f"prompts/get: the first of {calls:,} templates each, then one cached, {count:,} stored ...")
        step = max(1, count // calls)
        firsts = []
        for index in range(1, min(calls, count - 1) + 1):
            params = {"name": f"bench-{(index * step) % count:06d}", "arguments": BENCH_ARGUMENTS}
            started = time.perf_counter()
            peer.call("prompts/get", params)
            firsts.append((time.perf_counter() - started) * 1000)
        again = {"name": "bench-000000", "arguments": BENCH_ARGUMENTS}
        cached = [t / 1000 for t in peer.timed("prompts/get", again, calls)]
    finally:
        peer.close()
    first = p50(firsts)
    figure = versus(
        "first_get_vs_cached",
        f"first prompts/get of a template not used yet, {count:,} stored",
        first,
        "ms",
        "the same server's cached prompts/get",
        p50(cached),
        FIRST_GET_VS_CACHED,
    )
    if figure.ok is not None:
        figure.ok = figure.ok and first <= FIRST_GET_MS
        figure.target = f"≤ {FIRST_GET_MS:g} ms and {figure.target}"
    return [figure]


def run_store(*, templates: int, large: int, calls: int, log: Callable[[str], None]) -> list[Figure]:
    """Import ``templates`` and ``large`` files, report bytes per template, and first against cached gets."""
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="pba-bench-store-") as tmp:
        root = Path(tmp)
        small_figures, home = _import_figures(root, templates, log)
        figures += small_figures
        figures += _first_gets(home, templates, calls, log)
        if large:
            figures += _import_figures(root, large, log)[0]
    return figures
