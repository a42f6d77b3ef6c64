"""A throwaway PostgreSQL server for tests: a fresh cluster in a temporary folder on a free loopback port.

Found from ``PBA_TEST_PG_BINDIR``, ``pg_ctl`` on PATH, ``pg_config --bindir`` or the usual install folders.
PostgreSQL refuses to run as root, so under root (CI containers) the cluster belongs to the ``postgres`` user
(or ``nobody``) and its programs run as that user.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SUPERUSER = "postgres"
# Throwaway data: no durability, quick shutdown, room for several server instances' pools at once.
SERVER_OPTIONS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "32MB",
    "listen_addresses": "127.0.0.1",
    "log_min_messages": "warning",
}


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server programs were found on this machine, or the cluster could not start."""


def _has_server_programs(folder: Path) -> bool:
    suffix = ".exe" if sys.platform == "win32" else ""
    return all((folder / f"{program}{suffix}").is_file() for program in ("initdb", "pg_ctl", "postgres"))


def _version_key(folder: Path) -> list[int]:
    return [int(number) for number in re.findall(r"\d+", folder.parent.name)]


def find_bindir() -> Path:
    """The folder holding initdb, pg_ctl and postgres; PostgresUnavailable when there is none."""
    if configured := os.environ.get("PBA_TEST_PG_BINDIR"):  # an explicit choice: only there
        if _has_server_programs(Path(configured)):
            return Path(configured)
        raise PostgresUnavailable(f"PBA_TEST_PG_BINDIR={configured} holds no initdb, pg_ctl and postgres")
    candidates: list[Path] = []
    for program in ("pg_ctl", "initdb"):
        if found := shutil.which(program):
            candidates.append(Path(found).resolve().parent)  # Debian links them from /usr/bin or /usr/local/bin
    if pg_config := shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True)
            candidates.append(Path(out.stdout.strip()))
    installs = (("/usr/lib/postgresql", "*/bin"), ("/usr", "pgsql-*/bin"), ("/opt/homebrew/opt", "postgresql@*/bin"))
    for base, pattern in installs:
        if Path(base).is_dir():  # newest version first
            candidates.extend(sorted(Path(base).glob(pattern), key=_version_key, reverse=True))
    candidates.extend(Path(p) for p in ("/usr/local/pgsql/bin", "/usr/local/bin", "/opt/homebrew/bin"))
    for folder in candidates:
        if _has_server_programs(folder):
            return folder
    raise PostgresUnavailable(
        "no PostgreSQL server programs (initdb, pg_ctl, postgres) found on PATH, via pg_config or in "
        "/usr/lib/postgresql/*/bin; install PostgreSQL (Debian: apt-get install postgresql) or set "
        "PBA_TEST_PG_BINDIR"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cluster_owner() -> str | None:
    """The user to run PostgreSQL as when we are root (it refuses root); None to run as ourselves."""
    geteuid = getattr(os, "geteuid", None)
    if geteuid is None or geteuid() != 0:
        return None
    import pwd

    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise PostgresUnavailable("running as root and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL")


@dataclass
class PostgresServer:
    """One cluster: ``start()``/``stop()``/``restart()``, ``url(db)``, ``create_database()``, ``psql(sql)``."""

    bindir: Path
    folder: Path
    port: int = field(default_factory=_free_port)
    owner: str | None = None
    host: str = "127.0.0.1"
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def create(cls, bindir: Path | None = None) -> PostgresServer:
        """initdb a fresh cluster in a new temporary folder (not started)."""
        bindir = bindir or find_bindir()
        owner = _cluster_owner()
        # Short path: the Unix socket lives here and socket paths are limited to ~100 characters.
        folder = Path(tempfile.mkdtemp(prefix="pba-pg-"))
        server = cls(bindir=bindir, folder=folder, owner=owner)
        if owner is not None:
            import pwd

            entry = pwd.getpwnam(owner)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
        server._run(
            "initdb", "-D", str(server.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"
        )
        return server

    @property
    def data(self) -> Path:
        """The data directory."""
        return self.folder / "data"

    @property
    def log(self) -> Path:
        """The server log (read it when a test fails)."""
        return self.folder / "server.log"

    def _program(self, name: str) -> str:
        return str(self.bindir / (f"{name}.exe" if sys.platform == "win32" else name))

    def _run(self, program: str, *args: str, timeout: float = 120) -> str:
        command = [self._program(program), *args]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                user=self.owner,
                cwd=self.folder,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PostgresUnavailable(f"{program} failed: {exc}") from None
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise PostgresUnavailable(f"{program} {' '.join(args)} failed: {done.stderr.strip()}\n{log}")
        return done.stdout

    def start(self) -> None:
        """Start the server on its port and wait until it accepts connections."""
        settings = {**SERVER_OPTIONS, "port": str(self.port)}
        if sys.platform != "win32":
            settings["unix_socket_directories"] = str(self.folder)
        options = " ".join(f"-c {key}={value}" for key, value in settings.items())
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast`` disconnects clients; ``immediate`` is a crash)."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "60")

    def restart(self) -> None:
        """Stop and start again on the same port (clients' connections are cut)."""
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        """Whether the server is up (pg_ctl status)."""
        done = subprocess.run(
            [self._program("pg_ctl"), "status", "-D", str(self.data)],
            capture_output=True,
            check=False,
            user=self.owner,
        )
        return done.returncode == 0

    def url(self, dbname: str = "postgres", driver: str = "asyncpg") -> str:
        """A SQLAlchemy URL of one database (``driver=""``: a plain libpq ``postgresql://`` URL)."""
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{SUPERUSER}@{self.host}:{self.port}/{dbname}"

    def create_database(self, prefix: str = "test", *, template: str = "template1") -> str:
        """A new database, empty or a copy of ``template`` (a database nobody is connected to); its URL."""
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        # FILE_COPY with fsync off copies the template faster than the default WAL_LOG strategy.
        self.psql(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY = FILE_COPY')
        return self.url(name)

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        """Run SQL with psql as the superuser; unaligned, tuples-only output (``|`` between columns)."""
        command = [self._program("psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"]
        command += ["-h", self.host, "-p", str(self.port), "-U", SUPERUSER, "-d", dbname, "-c", sql]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def destroy(self) -> None:
        """Stop the server if it runs and remove the cluster's folder."""
        if self.data.exists() and self.running:
            with contextlib.suppress(PostgresUnavailable):
                self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)
