"""Fixtures for the provider tests: a scripted HTTP server on 127.0.0.1 and captured, rendered logs."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import structlog


@dataclass
class Reply:
    """One scripted answer: status, JSON (or raw bytes) body, headers, and how long to stall first.

    ``trickle`` sends the body one byte every that many seconds; ``chunked`` sends it in 64 KiB chunks with
    no Content-Length, so the client cannot tell its size up front.
    """

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    trickle: float = 0.0
    chunked: bool = False


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    client_port: int  # the same port twice means the client reused its pooled connection


class FakeServer:
    """A threaded HTTP server that answers POSTs from a script and records every request."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._released = threading.Event()  # set on teardown so stalled handlers stop waiting
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, so the providers' pooled connections get reused

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw
                with fake._lock:
                    fake.requests.append(
                        Recorded(
                            "POST",
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            self.client_address[1],
                        )
                    )
                    reply = fake.replies.pop(0) if fake.replies else Reply(599, {"error": "no scripted reply"})
                if reply.delay:
                    fake._released.wait(reply.delay)
                payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                if reply.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    self.send_body(reply, payload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up on this answer: expected in these tests

            def send_body(self, reply: Reply, payload: bytes) -> None:
                if reply.chunked:
                    for start in range(0, len(payload), 65536):
                        piece = payload[start : start + 65536]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                elif reply.trickle:
                    for index in range(len(payload)):
                        self.wfile.write(payload[index : index + 1])
                        self.wfile.flush()
                        if fake._released.wait(reply.trickle):
                            return
                else:
                    self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # quiet: the tests read the records instead
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that timed out and hung up is expected here, not a failure

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def close(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer()
    yield fake
    fake.close()


@pytest.fixture
def logs(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], str]]:
    """Everything logged during the test (structlog rendered to stderr, stdlib records at DEBUG), as text."""
    saved = structlog.get_config()
    structlog.configure(
        processors=[structlog.processors.add_log_level, structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        # Look sys.stderr up at each call: pytest swaps the capture stream between setup and the test body.
        logger_factory=lambda *_: structlog.PrintLogger(sys.stderr),
        cache_logger_on_first_use=False,
    )
    caplog.set_level(logging.DEBUG)  # httpx2/httpcore narrate requests at DEBUG: those must not leak the key either
    seen: list[str] = []

    def read() -> str:
        out, err = capsys.readouterr()
        seen.extend([out, err])
        return "".join(seen) + caplog.text

    yield read
    structlog.configure(**saved)
