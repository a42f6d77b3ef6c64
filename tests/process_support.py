"""What every test that starts a server process shares: a free loopback port and the server's lifetime."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import httpx2

STOP_SECONDS = 15  # how long a terminated server may take to exit before it is killed


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServerProcess:
    """A server in a subprocess whose output goes to a log file, ready once ``/healthz`` answers."""

    def __init__(
        self, argv: Sequence[str], env: dict[str, str], log_path: Path, base: str, start_seconds: float
    ) -> None:
        """Start ``argv``; ``base`` is the URL ``/healthz`` is read from."""
        self.base = base
        self.log_path = log_path
        self.start_seconds = start_seconds
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, env=env
        )

    def wait_ready(self) -> None:
        """Wait until ``/healthz`` answers; fail with the server's log if it exits or never answers."""
        deadline = time.monotonic() + self.start_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited with {self.process.returncode}: {self.log()}")
            try:
                httpx2.get(f"{self.base}/healthz", timeout=1)
                return
            except httpx2.TransportError:
                time.sleep(0.05)
        raise AssertionError(f"the server did not answer /healthz: {self.log()}")

    def stop(self) -> None:
        """Terminate the server and wait for it (kill if it does not stop)."""
        try:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        finally:
            self._log.close()

    def log(self) -> str:
        """What the server printed so far."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")
