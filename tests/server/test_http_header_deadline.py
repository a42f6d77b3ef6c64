"""A client that trickles its request headers, or sends none, is disconnected at the header deadline; other clients,
long responses and pipelined requests are not disturbed. On h11 and httptools, asyncio and uvloop, and in the real
``serve``, with one process and with ``--workers``."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp_server_support import START_SECONDS, WAIT_SECONDS, HttpServer, free_port, http_servers

APP = Path(__file__).with_name("header_deadline_app.py")
SECONDS = 1.0  # the deadline every server here runs with
TRICKLE = 0.3  # one byte this often
LATE = SECONDS + 1.0  # a trickler must be gone by then
HEAD = b"GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: trickle\r\n" + b"X-Pad: " + b"a" * 200
GET_OK = b"GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
COMBINATIONS = [(parser, loop) for parser in ("h11", "httptools") for loop in ("asyncio", "uvloop")]


class Closed(Exception):
    """The server closed the connection."""


class Connection:
    """A raw HTTP/1.1 client connection to 127.0.0.1."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT_SECONDS)
        self.buffer = b""

    def more(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise Closed
        self.buffer += data

    def take(self, count: int) -> bytes:
        while len(self.buffer) < count:
            self.more()
        taken, self.buffer = self.buffer[:count], self.buffer[count:]
        return taken

    def take_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            self.more()
        taken, _, self.buffer = self.buffer.partition(marker)
        return taken

    def response(self) -> tuple[int, bytes]:
        """The next whole response: its status and body (sized or chunked)."""
        head = self.take_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        status = int(head[0].split(" ")[1])
        headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in head[1:])}
        if "content-length" in headers:
            return status, self.take(int(headers["content-length"]))
        body = b""
        while size := int(self.take_until(b"\r\n"), 16):
            body += self.take(size)
            self.take(2)
        self.take(2)
        return status, body

    def trickle(self, data: bytes = HEAD) -> float:
        """Send ``data`` one byte per TRICKLE; seconds from the first byte until the server closed the connection."""
        started = time.monotonic()
        self.sock.settimeout(TRICKLE)
        try:
            for byte in data:
                self.sock.send(bytes([byte]))
                try:
                    if self.sock.recv(1024) == b"":
                        return time.monotonic() - started
                    raise AssertionError("the server answered headers that never ended")
                except TimeoutError:
                    continue
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - started
        raise AssertionError(f"still connected after {time.monotonic() - started:.1f} s of trickling")

    def silence(self) -> float:
        """Send nothing; seconds until the server closed the connection."""
        started = time.monotonic()
        with contextlib.suppress(ConnectionResetError):
            assert self.sock.recv(1024) == b""
        return time.monotonic() - started

    def close(self) -> None:
        self.sock.close()


def wait_until_serving(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            connection = Connection(port)
        except OSError:
            time.sleep(0.05)
            continue
        connection.sock.sendall(GET_OK)
        assert connection.response() == (200, b"ok")
        connection.close()
        return
    raise AssertionError("the server did not start")


ENV = {"PBA_TUNNEL_HTTP_HEADER_TIMEOUT_SECONDS": str(SECONDS)}


class Servers:
    """The small app on every parser and loop (by port), and the real ``serve``."""

    def __init__(self, apps: dict[tuple[str, str], int], serve: HttpServer) -> None:
        self.apps = apps
        self.serve = serve


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    ports = {combination: free_port() for combination in COMBINATIONS}
    logs = tmp_path_factory.mktemp("deadline-apps")
    processes = [
        subprocess.Popen(
            [sys.executable, str(APP), parser, loop, str(SECONDS), str(ports[parser, loop])],
            stdout=(logs / f"{parser}-{loop}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for parser, loop in COMBINATIONS
    ]
    try:
        with http_servers(lambda: HttpServer(tmp_path_factory.mktemp("serve"), "--transport", "http", env=ENV)) as (
            serve,
        ):
            for combination, process in zip(COMBINATIONS, processes, strict=True):
                wait_until_serving(ports[combination], process)
            yield Servers(ports, serve)
    finally:
        for process in processes:
            process.terminate()
            process.wait(WAIT_SECONDS)


def run_together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at once, each in its own thread; their results in order."""
    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]


def cut_from_the_start(port: int) -> float:
    return Connection(port).trickle()


def cut_after_a_first_request(port: int) -> float:
    connection = Connection(port)
    connection.sock.sendall(GET_OK)
    assert connection.response() == (200, b"ok")
    return connection.trickle()


def cut_while_silent(port: int) -> float:
    return Connection(port).silence()


def served_meanwhile(port: int) -> list[tuple[int, bytes]]:
    answers = []
    for _ in range(3):  # every 0.4 s on a new connection, while the tricklers hold theirs
        time.sleep(0.4)
        connection = Connection(port)
        connection.sock.sendall(GET_OK)
        answers.append(connection.response())
        connection.close()
    return answers


def test_trickled_or_missing_headers_are_cut_at_the_deadline_while_others_are_served(servers: Servers) -> None:
    calls: list[Callable[[], Any]] = []
    for port in servers.apps.values():
        calls += [
            lambda port=port: cut_from_the_start(port),
            lambda port=port: cut_after_a_first_request(port),
            lambda port=port: cut_while_silent(port),
            lambda port=port: served_meanwhile(port),
        ]
    results = run_together(*calls)
    for index, combination in enumerate(servers.apps):
        fresh, kept_alive, silent, others = results[4 * index : 4 * index + 4]
        assert SECONDS - TRICKLE <= fresh <= LATE, combination
        assert SECONDS - TRICKLE <= kept_alive <= LATE, combination
        assert SECONDS - 0.1 <= silent <= LATE, combination
        assert others == [(200, b"ok")] * 3, combination


def streamed(port: int) -> tuple[int, bytes]:
    connection = Connection(port)
    connection.sock.sendall(b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    return connection.response()


def slow_then_next(port: int) -> list[tuple[int, bytes]]:
    connection = Connection(port)
    connection.sock.sendall(b"POST /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\n\r\nbody")
    answers = [connection.response()]
    connection.sock.sendall(GET_OK)  # the same connection serves on
    answers.append(connection.response())
    return answers


def pipelined(port: int) -> list[tuple[int, bytes]]:
    connection = Connection(port)
    # Both GETs wait behind the slow POST, longer than the deadline, with their headers complete.
    connection.sock.sendall(b"POST /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\nhi" + GET_OK + GET_OK)
    return [connection.response() for _ in range(3)]


def test_long_responses_slow_answers_and_pipelined_requests_are_not_cut(servers: Servers) -> None:
    calls: list[Callable[[], Any]] = []
    for port in servers.apps.values():
        calls += [
            lambda port=port: streamed(port),
            lambda port=port: slow_then_next(port),
            lambda port=port: pipelined(port),
        ]
    results = run_together(*calls)
    events = b"".join(f"data: {number}\n\n".encode() for number in range(6))
    for index, combination in enumerate(servers.apps):
        stream, slow, pipeline = results[3 * index : 3 * index + 3]
        assert stream == (200, events), combination
        assert slow == [(200, b"slow body"), (200, b"ok")], combination
        assert pipeline == [(200, b"slow hi"), (200, b"ok"), (200, b"ok")], combination


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
}
CUT = "closed an HTTP connection whose request headers did not arrive in time"


def healthz_meanwhile(port: int) -> list[int]:
    statuses = []
    for _ in range(3):
        time.sleep(0.4)
        connection = Connection(port)
        connection.sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        statuses.append(connection.response()[0])
        connection.close()
    return statuses


def stream_still_open(server: HttpServer, seconds: float) -> tuple[int, bool]:
    """Open a session's GET stream; its status, and whether it is still open after ``seconds``."""
    answer = httpx2.post(
        f"{server.base}/mcp", json=INITIALIZE, headers={"Accept": "application/json, text/event-stream"}
    )
    session = answer.headers["mcp-session-id"]
    connection = Connection(server.port)
    connection.sock.sendall(
        b"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        + f"Mcp-Session-Id: {session}\r\nMcp-Protocol-Version: 2025-11-25\r\n\r\n".encode()
    )
    status = int(connection.take_until(b"\r\n\r\n").split(b" ")[1])
    time.sleep(seconds)
    connection.sock.settimeout(0.2)
    try:
        connection.more()
    except TimeoutError:
        pass  # nothing to read, and not closed
    except (Closed, ConnectionResetError):
        return status, False
    return status, True


def test_serve_cuts_trickled_headers_keeps_streams_and_serves_others(servers: Servers) -> None:
    port = servers.serve.port
    cut, health, stream = run_together(
        lambda: Connection(port).trickle(),
        lambda: healthz_meanwhile(port),
        lambda: stream_still_open(servers.serve, SECONDS + 0.5),
    )
    assert SECONDS - TRICKLE <= cut <= LATE
    assert health == [200, 200, 200]
    assert stream == (200, True)
    assert servers.serve.log().count(CUT) == 1  # one warning line for the operator


@pytest.mark.slow  # three processes, each importing the whole server
def test_serve_with_workers_cuts_trickled_headers_in_every_worker(tmp_path: Path) -> None:
    with http_servers(
        lambda: HttpServer(tmp_path, "--transport", "http", "--stateless", "--workers", "2", env=ENV)
    ) as (server,):
        # Several tricklers at once, so that both workers most likely get one.
        results = run_together(*[lambda: Connection(server.port).trickle()] * 4, lambda: healthz_meanwhile(server.port))
        assert all(SECONDS - TRICKLE <= cut <= LATE for cut in results[:4])
        assert results[4] == [200, 200, 200]
        assert server.log().count(CUT) == 4
