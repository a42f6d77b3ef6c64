"""Two real processes writing the same template in one store (an SQLite file, a PostgreSQL database): no version
is lost, and a writer whose expected version went stale gets the conflict error."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest

from conftest import cli_env, make_settings, template_source
from pba_tunnel.service import TemplateService

# Each writer opens its own service, reads the template, waits at a gate so both write at the same moment,
# then updates it ``count`` times and prints what happened as JSON.
WRITER = r"""
import json, sys, time
from pathlib import Path

import anyio

from pba_tunnel.config import load_settings
from pba_tunnel.errors import ConflictError
from pba_tunnel.service import TemplateService

gate, me, mode, count = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])


def source(i):
    return (
        "---\ndescription: Greets someone.\narguments:\n  - name: who\n    description: Who to greet\n---\n"
        f"user:\nHello {{{{ who }}}} from {me} #{i}\n"
    )


async def main():
    service = await TemplateService.open(load_settings())
    try:
        seen = (await service.get("shared")).version
        (gate / f"ready-{me}").touch()
        deadline = time.monotonic() + 60
        while not (gate / "go").exists():
            if time.monotonic() > deadline:
                raise SystemExit("the test never opened the gate")
            await anyio.sleep(0.002)
        results = []
        for i in range(count):
            expected = seen if mode == "expect" else None
            try:
                result = await service.update("shared", source(i), expected_version=expected, origin=me)
                results.append(["ok", result.version, source(i)])
            except ConflictError as exc:
                results.append(["conflict", exc.message, source(i)])
        print(json.dumps(results))
    finally:
        await service.close()


anyio.run(main)
"""


def run_writers(
    home: Path, tmp_path: Path, mode: str, count: int, env: dict[str, str]
) -> dict[str, list[list[object]]]:
    """Start two writer processes, open the gate once both are ready, and collect their results."""
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    gate = tmp_path / "gate"
    gate.mkdir()
    writers = {
        me: subprocess.Popen(
            [sys.executable, str(script), str(gate), me, mode, str(count)],
            env=cli_env(home, PBA_TUNNEL_SEED="0", **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for me in ("alpha", "beta")
    }
    try:
        deadline = time.monotonic() + 60
        while not all((gate / f"ready-{me}").exists() for me in writers):
            assert all(p.poll() is None for p in writers.values()), "a writer exited before the gate opened"
            assert time.monotonic() < deadline, "the writers never got ready"
            time.sleep(0.01)
        (gate / "go").touch()
        outputs = {me: p.communicate(timeout=60) for me, p in writers.items()}
    finally:
        for process in writers.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    for me, (_stdout, stderr) in outputs.items():
        assert writers[me].returncode == 0, stderr
        assert "Traceback" not in stderr
    return {me: json.loads(stdout) for me, (stdout, _stderr) in outputs.items()}


async def prepare(home: Path, env: dict[str, str]) -> None:
    service = await TemplateService.open(make_settings(home, **env))
    try:
        await service.create(template_source(), name="shared")
    finally:
        await service.close()


async def history(home: Path, env: dict[str, str]) -> list[tuple[int, str, str]]:
    service = await TemplateService.open(make_settings(home, **env))
    try:
        versions = await service.history("shared")
        return [(v.version, v.origin, (await service.get("shared", v.version)).source) for v in versions]
    finally:
        await service.close()


@pytest.mark.slow
def test_the_stale_writer_gets_the_conflict_error(home: Path, tmp_path: Path, backend_env: dict[str, str]) -> None:
    anyio.run(prepare, home, backend_env)
    results = run_writers(home, tmp_path, mode="expect", count=1, env=backend_env)

    outcomes = {me: result for me, [result] in results.items()}
    winners = [me for me, outcome in outcomes.items() if outcome[0] == "ok"]
    assert len(winners) == 1, outcomes
    winner = winners[0]
    loser = "beta" if winner == "alpha" else "alpha"
    assert outcomes[winner][1] == 2
    assert outcomes[loser][:2] == [
        "conflict",
        "template 'shared' is at version 2, not 1: someone changed it meanwhile; "
        "get the current version and apply your change again",
    ]
    assert anyio.run(history, home, backend_env) == [(1, "cli", template_source()), (2, winner, outcomes[winner][2])]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"])  # many writers on PostgreSQL: the multi-instance tests
def test_two_processes_updating_lose_no_version(home: Path, tmp_path: Path, backend_env: dict[str, str]) -> None:
    anyio.run(prepare, home, backend_env)
    count = 15
    results = run_writers(home, tmp_path, mode="latest", count=count, env=backend_env)

    written = {(me, result[1], result[2]) for me, runs in results.items() for result in runs}
    assert all(result[0] == "ok" for runs in results.values() for result in runs), results
    for runs in results.values():
        versions = [result[1] for result in runs]
        assert versions == sorted(versions)  # each writer sees its own versions increase
    stored = anyio.run(history, home, backend_env)
    assert [version for version, _origin, _source in stored] == list(range(1, 2 * count + 2))
    assert {(origin, version, source) for version, origin, source in stored[1:]} == written
