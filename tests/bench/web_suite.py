"""The web suite: the library page's server time at 10,000 and 100,000 templates, against ``/healthz``.

A real ``pba-tunnel serve --transport http`` over a filled store; one keep-alive client asks in turn for
``/healthz`` (the cheapest answer of the same process: routing, middleware, one count) and for the library
page (its first page, a page deep in the cursor walk, and a search). Each figure is the median time to
the last byte, reported as a ratio to ``/healthz`` measured in the same run. ``/healthz`` counts the templates,
so it slows down as the store grows: the script file (``/static/app.js``, no store at all) is timed too, as a
baseline that does not.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import anyio
import httpx2

from pba_tunnel.store.cursors import encode_cursor

from .fill import Row, cli_env, insert_rows, run_cli
from .report import Figure, p50, versus

SOURCE = "---\ndescription: Bench template {index}.\narguments:\n  - name: topic\n    description: Topic\n---\n{body}\n"
WORDS = ["review", "summary", "release", "incident", "schema", "migration", "tests", "refactor", "email", "plan"]


def _rows(count: int) -> Iterator[Row]:
    for index in range(count):
        word = WORDS[index % len(WORDS)]
        body = f"user:\nWrite a {word} about {{{{ topic }}}} (variant {index})."
        yield Row(
            name=f"tpl-{index:06d}",
            title=f"{word.capitalize()} helper {index}",
            source=SOURCE.format(index=index, body=body),
            description=f"Helps with a {word}, variant {index}.",
            tags=[word],
            arguments=[{"name": "topic", "description": "Topic"}],
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _median_seconds(client: httpx2.Client, path: str, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(path)
        response.read()
        samples.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}: {response.text[:300]}")
    return p50(samples)


def _measure(home: Path, count: int, repeats: int, log: Callable[[str], None]) -> list[Figure]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "pba_tunnel", "serve", "--transport", "http", "--port", str(port)],
        env=cli_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx2.Client(base_url=base, timeout=60) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    client.get("/healthz")
                    break
                except httpx2.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("the server did not start") from None
                    time.sleep(0.1)
            deep = f"/?cursor={quote(_cursor_near_end(count))}"
            paths = {"first page": "/", "a page near the end": deep, "search 'incident'": "/?q=incident"}
            for path in ["/healthz", "/static/app.js", *paths.values()]:
                _median_seconds(client, path, 5)  # warm caches and connections
            health = _median_seconds(client, "/healthz", repeats)
            asset = _median_seconds(client, "/static/app.js", repeats)
            figures = [
                versus(
                    f"web_static_{count}",
                    f"the page's script file (no store), {count:,} templates (p50)",
                    asset * 1000,
                    "ms",
                    "GET /healthz",
                    health * 1000,
                    None,
                )
            ]
            for label, path in paths.items():
                value = _median_seconds(client, path, repeats)
                log(f"web {count:,}: {label} {value * 1000:.1f} ms vs /healthz {health * 1000:.1f} ms")
                figures.append(
                    versus(
                        f"web_library_{count}_{label.split()[0]}",
                        f"library page, {label}, {count:,} templates (p50)",
                        value * 1000,
                        "ms",
                        "GET /healthz",
                        health * 1000,
                        None,
                    )
                )
            return figures
    finally:
        server.terminate()
        server.wait(timeout=30)


def _cursor_near_end(count: int) -> str:
    """The cursor of a page near the end (a cursor encodes the last name of the page before)."""
    return encode_cursor(f"tpl-{count - 60:06d}")


def run_web(*, sizes: list[int], repeats: int, log: Callable[[str], None]) -> list[Figure]:
    """Fill a store of each size and time the library page against /healthz."""
    figures: list[Figure] = []
    for count in sizes:
        with tempfile.TemporaryDirectory(prefix="pba-web-bench-") as folder:
            home = Path(folder)
            log(f"web: filling {count:,} templates")
            anyio.run(insert_rows, home, _rows(count))
            run_cli(home, "db", "reindex")
            figures += _measure(home, count, repeats, log)
    return figures
