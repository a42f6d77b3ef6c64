"""The real third-party Python MCP clients (mcp 1.x, openai-agents) in venvs of their own, for tests/clients/.

They cannot live in the project's environment (the project runs the mcp 2.x SDK), so
``.ci/install-python-clients`` puts each client set in a venv inside the Node client cache
(``<cache>/python/mcp-1.30.0`` with openai-agents, ``<cache>/python/mcp-1.9.4``). The tests run small scripts
(mcp1_client.py, agents_strict.py) with a venv's interpreter; each prints one JSON summary.

:func:`find_python_clients` installs the venvs when they are missing and uv or pip can; when they cannot be had
a test skips with the reason, except in CI (``CI`` set), where a missing client is a failure, never a skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from node_clients import REPO, Completed, cache_dir, run, server_env, unavailable

INSTALLER = REPO / ".ci" / "install-python-clients"
MCP1_CLIENT_SCRIPT = Path(__file__).with_name("mcp1_client.py")
AGENTS_STRICT_SCRIPT = Path(__file__).with_name("agents_strict.py")
MCP1_VERSIONS = ("1.30.0", "1.9.4")
AGENTS_VENV = "mcp-1.30.0"  # the venv that also holds openai-agents


@dataclass(frozen=True)
class PythonClients:
    """The installed client venvs."""

    root: Path

    def python(self, venv: str) -> Path:
        return self.root / "python" / venv / "bin" / "python"

    def script(self, venv: str, script: Path, plan: dict[str, Any], home: Path, **env: str) -> tuple[Completed, Any]:
        """Run ``script`` with ``plan`` under the venv's interpreter on the store under ``home``: the run and its
        JSON summary (the last line on stdout)."""
        done = run(
            [str(self.python(venv)), str(script), json.dumps(plan)],
            env=server_env(home, PYTHONDONTWRITEBYTECODE="1", **env),
        )
        lines = done.stdout.strip().splitlines()
        try:
            summary = json.loads(lines[-1])
        except (IndexError, ValueError):
            raise AssertionError(f"no JSON summary\n{done.describe()}") from None
        return done, summary


def serve_command(*extra: str) -> dict[str, Any]:
    """The stdio server as a client starts it: this interpreter, ``-m pba_tunnel serve``."""
    return {"command": sys.executable, "args": ["-m", "pba_tunnel", "serve", *extra]}


def pba_tunnel_argv(*args: str) -> Sequence[str]:
    """The CLI as another process runs it (the store comes from the environment)."""
    return [sys.executable, "-m", "pba_tunnel", *args]


def find_python_clients() -> PythonClients | str:
    """The installed client venvs, installing them first if needed; a reason when that cannot be done."""
    root = cache_dir()
    if subprocess.run(["bash", str(INSTALLER), "--check"], check=False, capture_output=True).returncode != 0:
        if shutil.which("uv") is None and shutil.which("python3") is None:
            return f"the Python MCP clients are not installed in {root / 'python'} and neither uv nor python3 is here"
        done = run(["bash", str(INSTALLER)], timeout=900)
        if done.returncode != 0:
            return f".ci/install-python-clients failed (no network to PyPI?)\n{done.describe()[-3000:]}"
    return PythonClients(root)


@pytest.fixture(scope="session", name="python_clients")
def python_clients_fixture() -> PythonClients:
    """The installed Python client venvs (installed on first use); skips (fails in CI) when they cannot be had."""
    found = find_python_clients()
    if isinstance(found, str):
        unavailable(found)
    return found
