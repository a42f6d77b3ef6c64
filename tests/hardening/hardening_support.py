"""Run one hostile parse or render in a real child process and report its error, wall time and extra memory.

One child imports the package once and forks a fresh process per case (POSIX), so each case's peak RSS is
its own: ``ru_maxrss`` after the case minus ``ru_maxrss`` when the forked process starts. Without ``fork``
(Windows) the case runs in the child itself and memory is not reported (``extra_mb`` is None).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

WALL_SECONDS = 2.0
EXTRA_MB = 256.0

CHILD = r"""
import json, os, sys, time

from pba_tunnel.config import Limits
from pba_tunnel.errors import PbaError
from pba_tunnel.rendering import Renderer
from pba_tunnel.templates.parsing import parse_template

try:
    import resource
except ImportError:  # Windows: no getrusage, memory is not measured
    resource = None

NORMAL = "---\ndescription: d\narguments:\n  - name: who\n    description: w\n---\nHello {{ who }}!\n"


def peak_mb():
    if resource is None:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)  # bytes on macOS, KiB on Linux


def run(case):
    limits = Limits(**case.get("limits", {}))
    partials = case.get("partials", {})
    renderer = Renderer(limits, partials=partials.get)
    parsed = None
    if case["kind"] == "render":
        parse_partials = case.get("parse_partials", partials)
        parsed = parse_template(case["source"], default_name="hostile", partials=parse_partials.get)
    before = peak_mb()
    started = time.perf_counter()
    error = code = message = None
    text = None
    try:
        if case["kind"] == "render":
            text = renderer.render(parsed, case.get("arguments", {})).text
        else:
            parse_template(case["source"], path="hostile.md", default_name="hostile", partials=partials.get)
    except PbaError as exc:
        error, code, message = type(exc).__name__, exc.code, exc.message
    except BaseException as exc:  # reported, and the test fails on it
        error, message = "unexpected " + type(exc).__name__, repr(exc)[:500]
    seconds = time.perf_counter() - started
    after = peak_mb()
    normal = Renderer(limits).render(parse_template(NORMAL, default_name="normal"), {"who": "Ada"}).text
    return {
        "error": error,
        "code": code,
        "message": (message or "")[:500],
        "text": text[:200] if text is not None else None,
        "seconds": seconds,
        "extra_mb": None if before is None else after - before,
        "still_works": normal == "Hello Ada!",
    }


def in_fork(case):
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            result = run(case)
        except BaseException as exc:
            result = {"crash": repr(exc)[:500]}
        os.write(write_end, json.dumps(result).encode())
        os._exit(0)
    os.close(write_end)
    deadline = time.monotonic() + 30
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            os.close(read_end)
            return {"crash": "no answer within 30 s"}
        time.sleep(0.002)
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    return json.loads(b"".join(chunks)) if chunks else {"crash": f"exit status {status}"}


for line in sys.stdin:
    case = json.loads(line)
    result = in_fork(case) if hasattr(os, "fork") else run(case)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
"""


@dataclass
class Outcome:
    """What a hostile case did in the child."""

    error: str | None
    code: str | None
    message: str
    text: str | None
    seconds: float
    extra_mb: float | None
    still_works: bool


class HostileRunner:
    """A child process that runs hostile cases one by one, each in its own forked process."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-c", CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def run(self, case: dict[str, Any]) -> Outcome:
        """Run one case ({"kind": "render" | "parse", "source": …, …}) and return what happened."""
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.write(json.dumps(case) + "\n")
        self._process.stdin.flush()
        answer = json.loads(self._process.stdout.readline())
        assert "crash" not in answer, answer
        return Outcome(**answer)

    def close(self) -> None:
        """Stop the child."""
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=30)


def assert_bounded(outcome: Outcome) -> None:
    """The case finished in time, within the memory bound, and the process still renders."""
    assert outcome.seconds < WALL_SECONDS, outcome
    if outcome.extra_mb is not None:  # None on Windows, where the child cannot measure its peak RSS
        assert outcome.extra_mb < EXTRA_MB, outcome
    assert outcome.still_works, outcome


def template(body: str, front_matter: str = "") -> str:
    """A template source with ``body`` and extra front-matter lines."""
    return f"---\ndescription: d\n{front_matter}---\n{body}\n"
