"""The hostile corpus sent through a running server: every bomb is a tool error within 2 s, the server's memory
grows by less than 256 MB over the whole corpus, and another client is answered after each one."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import anyio
import pytest
from hardening_support import template
from mcp import Client
from test_parse_bombs import BOMBS as FRONT_MATTER_BOMBS
from test_render_bombs import BOMBS as RENDER_BOMBS

sys.path.insert(0, str(Path(__file__).parents[1] / "server"))  # the server tests' helpers
from mcp_server_support import GREET_SOURCE, HttpServer, prepare_store

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.filterwarnings("ignore:ping is removed")]

WALL_SECONDS = 2.0
EXTRA_MB = 256


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident memory (Linux /proc), or None where that cannot be read."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


async def test_the_hostile_corpus_through_a_server_leaves_it_bounded_and_answering(home: Path) -> None:
    await prepare_store(home, {"greet": GREET_SOURCE})
    server = HttpServer(home, "--transport", "http")
    try:
        await anyio.to_thread.run_sync(server.wait_ready)
        url = f"{server.base}/mcp"
        async with Client(url, mode="legacy", cache=None) as attacker, Client(url, mode="legacy", cache=None) as other:
            await other.call_tool("render_template", {"name": "greet", "arguments": {"who": "warm-up"}})
            baseline = peak_rss_mb(server.process.pid)
            cases = [(f"render-{n}", template(body)) for n, (body, _code) in RENDER_BOMBS.items()]
            cases += [
                (f"yaml-{n}", template("x", front_matter)) for n, (front_matter, _r) in FRONT_MATTER_BOMBS.items()
            ]
            for number, (label, source) in enumerate(cases):
                started = time.perf_counter()
                created = await attacker.call_tool("create_template", {"source": source, "name": f"bomb-{number}"})
                if not created.is_error:
                    rendered = await attacker.call_tool("render_template", {"name": f"bomb-{number}"})
                    assert rendered.is_error, label
                assert time.perf_counter() - started < WALL_SECONDS, label
                await other.send_ping()
                greeted = await other.call_tool("render_template", {"name": "greet", "arguments": {"who": label}})
                assert greeted.structured_content is not None
                assert greeted.structured_content["text"] == f"Hello {label}!", label
        peak = peak_rss_mb(server.process.pid)
        if baseline is not None and peak is not None:
            assert peak - baseline < EXTRA_MB, (baseline, peak)
    finally:
        server.stop()
