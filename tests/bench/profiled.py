"""``python -m tests.bench.profiled OUT.pstats ARGS...``: ``pba-tunnel ARGS...`` under cProfile, with GC accounting.

The HTTP suite starts our servers through this with ``--http-profile DIR``: profiling starts on SIGUSR1 (sent
just before the measured load) and on SIGUSR2 (just after it) the statistics go to OUT.pstats and the garbage
collector's runs and CPU time in between to OUT.gc.txt; start-up and warm-up are left out. Read the profile
with ``python -m pstats OUT.pstats`` (``sort tottime``, ``stats 40``). Times are the main thread's CPU time
(``time.thread_time``), so other programs on a shared machine leave no mark; worker threads are not profiled
(the suite logs their CPU time beside). Unix only, like the suite's pinning.
"""

from __future__ import annotations

import cProfile
import gc
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any


class GcClock:
    """Runs and CPU seconds of the garbage collector per generation, and its longest run."""

    def __init__(self) -> None:
        self.runs = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self.longest = [0.0, 0.0, 0.0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.thread_time()
            return
        spent, generation = time.thread_time() - self._started, info["generation"]
        self.runs[generation] += 1
        self.seconds[generation] += spent
        self.longest[generation] = max(self.longest[generation], spent)

    def report(self) -> str:
        """Runs, CPU and longest run of each generation."""
        return "; ".join(
            f"gen{g}: {runs} runs, {seconds * 1000:.0f} ms CPU, longest {longest * 1000:.1f} ms"
            for g, (runs, seconds, longest) in enumerate(zip(self.runs, self.seconds, self.longest, strict=True))
        )


def main() -> None:
    """Serve under the profiler; see the module docstring."""
    out, args = Path(sys.argv[1]), sys.argv[2:]
    profiler = cProfile.Profile(time.thread_time)
    clock = GcClock()

    def start(_signum: int, _frame: FrameType | None) -> None:
        gc.callbacks.append(clock)
        profiler.enable()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        profiler.disable()
        gc.callbacks.remove(clock)
        out.with_suffix(".gc.txt").write_text(clock.report())
        profiler.dump_stats(out)

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    sys.argv = ["pba-tunnel", *args]
    from pba_tunnel.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
