"""A line longer than the stdio line limit: both stdio transports refuse it with the same error, skip it without
buffering it, and answer the next request."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import anyio
import pytest
from test_server_corpus import EXTRA_MB, peak_rss_mb

sys.path.insert(0, str(Path(__file__).parents[1] / "server"))  # the server tests' helpers
from mcp_server_support import GREET_SOURCE, WAIT_SECONDS, prepare_store, server_env

from pba_tunnel.server.stdio_lines import MAX_LINE_BYTES

LONG_LINE_BYTES = 70 * 1024 * 1024
CHUNK = b"x" * (1024 * 1024)
SECONDS = 5.0


def request(request_id: int, method: str, params: dict[str, Any] | None = None) -> bytes:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return json.dumps(message).encode() + b"\n"


def read_answers(stdout: IO[bytes], answers: queue.Queue[dict[str, Any]]) -> None:
    for line in stdout:
        answers.put(json.loads(line))


def write_long_line_then(stdin: IO[bytes], after: bytes) -> None:
    for _ in range(LONG_LINE_BYTES // len(CHUNK)):
        stdin.write(CHUNK)
    stdin.write(b"\n" + after)
    stdin.flush()


@pytest.mark.skipif(sys.platform == "win32", reason="the pipe transport exists only on Unix")
@pytest.mark.parametrize("transport", ["auto", "portable"])
def test_a_line_over_the_limit_is_refused_and_skipped_in_bounded_memory(home: Path, transport: str) -> None:
    assert LONG_LINE_BYTES > MAX_LINE_BYTES
    anyio.run(prepare_store, home, {"greet": GREET_SOURCE})
    process = subprocess.Popen(
        [sys.executable, "-m", "pba_tunnel", "serve", "--stdio-transport", transport],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=server_env(home),
    )
    assert process.stdin is not None
    assert process.stdout is not None
    answers: queue.Queue[dict[str, Any]] = queue.Queue()
    threading.Thread(target=read_answers, args=(process.stdout, answers), daemon=True).start()
    try:
        hello = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
        process.stdin.write(request(1, "initialize", hello))
        process.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n' + request(2, "prompts/list"))
        process.stdin.flush()
        assert answers.get(timeout=WAIT_SECONDS)["id"] == 1
        assert answers.get(timeout=WAIT_SECONDS)["id"] == 2  # the store is open: its memory is in the baseline
        baseline = peak_rss_mb(process.pid)

        started = time.perf_counter()
        writer = threading.Thread(target=write_long_line_then, args=(process.stdin, request(3, "ping")))
        writer.start()
        refused = answers.get(timeout=WAIT_SECONDS)
        pong = answers.get(timeout=WAIT_SECONDS)
        seconds = time.perf_counter() - started
        writer.join(timeout=WAIT_SECONDS)
        peak = peak_rss_mb(process.pid)

        assert refused == {
            "jsonrpc": "2.0",
            "id": None,
            "error": {"code": -32600, "message": "Invalid request: not a JSON-RPC 2.0 message"},
        }
        assert pong == {"jsonrpc": "2.0", "id": 3, "result": {}}
        assert seconds < SECONDS
        if baseline is not None and peak is not None:  # Linux: /proc
            assert peak - baseline < EXTRA_MB, (baseline, peak)
        process.stdin.close()
        assert process.wait(timeout=WAIT_SECONDS) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
