"""The CLI suite: ``pba-tunnel list``, ``search`` and ``render`` from spawn to exit, wall time and CPU.

Each command is the installed console script (``pba-tunnel`` next to this interpreter) on a store seeded with the
starter library, as a user's first run leaves it. Baselines, spawned the same way in the same run and interleaved
with the commands: ``python -c pass`` (the interpreter's own start) and the dependency floor, a
``python -c "import ..."`` of the modules a command that reads the store cannot avoid with the project's fixed
choices (SQLModel/SQLAlchemy's asyncio engine and the aiosqlite driver for the store, pydantic-settings for
settings, click, structlog, anyio; Jinja2's sandbox too for ``render``) and runs one empty event loop, with the
cycle collector off while they load and frozen at exit, as the CLI does (``collector.py``). A command can get no
faster than its floor without dropping one of those choices; above it are our own modules and the command's work.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import anyio

from pba_tunnel.config import load_settings
from pba_tunnel.logging import configure_logging
from pba_tunnel.startup import open_service

from .fill import cli_env
from .report import Figure, p50, versus

try:  # Unix only: without it the suite reports wall time alone
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

WALL_MS = 350  # issue 15: `list`, `search` and `render` each ≤ 0.35 s wall
FLOOR = [
    "sqlmodel",
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.dialects.sqlite.aiosqlite",
    "aiosqlite",
    "pydantic_settings",
    "click",
    "structlog",
    "anyio",
]
RENDER_FLOOR = [*FLOOR, "jinja2.sandbox"]
COMMANDS = {
    "list": ["list"],
    "search": ["search", "review"],
    "render": ["render", "code-review", "-a", "language=python", "-a", "code=print(1)"],
}


def floor_command(modules: Sequence[str]) -> list[str]:
    """A ``python -c`` that starts as a command does and does nothing: the collector off, ``modules`` imported, one
    empty ``anyio.run`` (which imports anyio's asyncio backend), the collector's objects frozen at exit."""
    lines = ["import gc", "gc.disable()", f"import {', '.join(modules)}", "async def nothing(): pass"]
    return [sys.executable, "-c", "\n".join([*lines, "anyio.run(nothing)", "gc.freeze()"])]


def installed_command() -> list[str]:
    """The ``pba-tunnel`` console script beside this interpreter, else ``python -m pba_tunnel``."""
    script = shutil.which("pba-tunnel", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "pba_tunnel"]


def spawn_to_exit(command: Sequence[str], env: dict[str, str]) -> tuple[float, float | None]:
    """Milliseconds of wall time from spawn to exit, and of CPU (user + system) the child used (None: no way)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN) if resource is not None else None
    started = time.perf_counter()
    done = subprocess.run(list(command), env=env, capture_output=True, text=True, check=False)
    wall = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    if before is None:
        return wall, None
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu * 1000


async def seed(home: Path) -> None:
    """Open a new store under ``home`` as a first ``pba-tunnel`` run does: it is seeded with the starter library."""
    configure_logging("warning")  # to stderr, as the CLI does: the report on stdout stays the figures alone
    service = await open_service(load_settings({"PBA_TUNNEL_HOME": str(home)}))
    await service.close()


def run_cli(*, runs: int, warmups: int, log: Callable[[str], None]) -> list[Figure]:
    """Measure every figure of the CLI suite; see the module docstring."""
    ours = installed_command()
    commands = {name: [*ours, *args] for name, args in COMMANDS.items()}
    baselines = {
        "pass": [sys.executable, "-c", "pass"],
        "floor": floor_command(FLOOR),
        "render_floor": floor_command(RENDER_FLOOR),
    }
    if resource is None:
        log("CPU not measured: this platform has no `resource` module; the CLI suite reports wall time only")
    with tempfile.TemporaryDirectory(prefix="pba-bench-cli-") as tmp:
        env = cli_env(Path(tmp)) | {"PBA_TUNNEL_SEED": "1"}  # the default: a first run seeds the starter library
        log("CLI: seeding a store with the starter library ...")
        anyio.run(seed, Path(tmp))
        log(f"CLI: {warmups} warm-up and {runs} measured runs of each command and baseline ...")
        samples: dict[str, list[tuple[float, float | None]]] = {name: [] for name in [*baselines, *commands]}
        for round_ in range(warmups + runs):  # interleaved, so a slow moment of the machine hits every one alike
            for name, command in [*baselines.items(), *commands.items()]:
                measured = spawn_to_exit(command, env)
                if round_ >= warmups:
                    samples[name].append(measured)

    def wall(name: str) -> float:
        return p50([s[0] for s in samples[name]])

    def cpu(name: str) -> float | None:
        values = [s[1] for s in samples[name] if s[1] is not None]
        return p50(values) if values else None

    pass_name = "python -c pass, spawn to exit"
    floor_name, render_floor_name = "dependency floor", "dependency floor + jinja2.sandbox"
    figures = [
        Figure(
            "cli_floor",
            f"dependency floor: import {', '.join(FLOOR)}, one empty anyio.run, spawn to exit",
            wall("floor"),
            "ms",
            pass_name,
            wall("pass"),
            wall("floor") / wall("pass"),
            f"≤ {WALL_MS} ms (the commands' target)",
            wall("floor") <= WALL_MS,
        )
    ]
    for name, args in COMMANDS.items():
        floor, label = ("render_floor", render_floor_name) if name == "render" else ("floor", floor_name)
        what = f"pba-tunnel {' '.join(args[:2])}{' -a ...' if len(args) > 2 else ''}, starter library, spawn to exit"
        value = wall(name)
        figures.append(
            Figure(
                f"cli_{name}",
                what,
                value,
                "ms",
                pass_name,
                wall("pass"),
                value / wall("pass"),
                f"≤ {WALL_MS} ms",
                value <= WALL_MS,
            )
        )
        figures.append(versus(f"cli_{name}_vs_floor", what, value, "ms", label, wall(floor), None))
        used = cpu(name)
        if used is not None:
            figures.append(versus(f"cli_{name}_cpu", f"{what}, CPU", used, "ms", f"{label}, CPU", cpu(floor), None))
    return figures
