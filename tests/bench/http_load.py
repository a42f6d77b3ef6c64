"""A small, cheap streamable-HTTP load generator: N concurrent MCP clients over raw HTTP/1.1 keep-alive sockets.

The load generator shares the machine with the server, so it must cost far less per request than any server
under test: no HTTP library, no SDK, no pydantic — one hand-written request and a response read by content
length or chunks. Every server is driven by the same code, so its cost is the same in every figure.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

PROTOCOL = "2025-11-25"
INITIALIZE = {
    "protocolVersion": PROTOCOL,
    "capabilities": {},
    "clientInfo": {"name": "pba-tunnel-bench", "version": "1"},
}


@dataclass
class Load:
    """What the clients measured: latencies in seconds of every answered request, and the failures."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


class HttpClient:
    """One MCP client on one keep-alive connection; ``session`` is the ``mcp-session-id`` once initialized."""

    def __init__(self, host: str, port: int, path: str) -> None:
        self.host, self.port, self.path = host, port, path
        self.session: str | None = None
        self.initialized = False
        self._ids = 0
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        """Open the connection, initialize and send ``notifications/initialized``."""
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        await self.call("initialize", INITIALIZE)
        self.initialized = True
        await self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})

    async def close(self) -> None:
        """End the session (stateful servers) and the connection."""
        if self._writer is None:
            return
        if self.session is not None:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError, RuntimeError):
                await self._exchange(b"DELETE", b"")
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()

    async def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """One request; its result (RuntimeError on a JSON-RPC error or an unexpected HTTP status)."""
        self._ids += 1
        request_id = self._ids
        status, headers, body = await self._exchange(
            b"POST", json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}).encode()
        )
        if status != 200:
            raise RuntimeError(f"{method}: HTTP {status}: {body[:200]!r}")
        if self.session is None and b"mcp-session-id" in headers:
            self.session = headers[b"mcp-session-id"].decode()
        message = find_response(headers.get(b"content-type", b""), body, request_id)
        if "error" in message:
            raise RuntimeError(f"{method}: {message['error']}")
        result: dict[str, Any] = message["result"]
        return result

    async def post(self, message: dict[str, Any]) -> None:
        """A notification: 202 Accepted expected."""
        status, _, body = await self._exchange(b"POST", json.dumps(message).encode())
        if status != 202:
            raise RuntimeError(f"{message['method']}: HTTP {status}: {body[:200]!r}")

    async def _exchange(self, method: bytes, body: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
        assert self._reader is not None
        assert self._writer is not None
        lines = [
            method + b" " + self.path.encode() + b" HTTP/1.1",
            b"Host: " + f"{self.host}:{self.port}".encode(),
            b"Accept: application/json, text/event-stream",
            b"Content-Type: application/json",
            b"Content-Length: " + str(len(body)).encode(),
        ]
        if self.session is not None:
            lines.append(b"Mcp-Session-Id: " + self.session.encode())
        if self.initialized:  # every request after initialize names the version, as the spec asks
            lines.append(b"Mcp-Protocol-Version: " + PROTOCOL.encode())
        self._writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].split(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        headers: dict[bytes, bytes] = {}
        for line in header_lines:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            return status, headers, await self._chunks()
        length = int(headers.get(b"content-length", b"0"))
        return status, headers, await self._reader.readexactly(length) if length else b""

    async def _chunks(self) -> bytes:
        assert self._reader is not None
        parts = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
            data = await self._reader.readexactly(size + 2)
            if size == 0:
                return b"".join(parts)
            parts.append(data[:-2])


def find_response(content_type: bytes, body: bytes, request_id: int) -> dict[str, Any]:
    """The JSON-RPC response to ``request_id`` in a JSON body or an SSE stream."""
    if content_type.startswith(b"application/json"):
        message: dict[str, Any] = json.loads(body)
        return message
    for event in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        data = b"\n".join(line[5:].lstrip() for line in event.split(b"\n") if line.startswith(b"data:"))
        if data:
            sent = json.loads(data)
            if isinstance(sent, dict) and sent.get("id") == request_id and "method" not in sent:
                return sent
    raise RuntimeError(f"no response to request {request_id} in {body[:200]!r}")


Request = tuple[str, dict[str, Any]]


@dataclass
class Clock:
    """Shared by the clients: how many connected, and when to stop (set once everyone is connected)."""

    connected: int = 0
    until: float = float("inf")
    go: asyncio.Event = field(default_factory=asyncio.Event)


async def _client(host: str, port: int, path: str, requests: Sequence[Request], clock: Clock, load: Load) -> None:
    client = HttpClient(host, port, path)
    try:
        try:
            await client.connect()
        except (OSError, asyncio.IncompleteReadError, RuntimeError, ValueError) as exc:
            load.errors.append(f"connect: {exc!r}")
            return
        finally:
            clock.connected += 1
        await clock.go.wait()
        index = 0
        while time.perf_counter() < clock.until:
            method, params = requests[index % len(requests)]
            index += 1
            started = time.perf_counter()
            try:
                await client.call(method, params)
            except RuntimeError as exc:
                load.errors.append(str(exc))
                continue
            load.latencies.append(time.perf_counter() - started)
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        load.errors.append(f"connection lost: {exc!r}")
    finally:
        await client.close()


async def run_load(
    host: str, port: int, path: str, requests: Sequence[Request], *, clients: int, seconds: float
) -> Load:
    """``clients`` clients, each sending ``requests`` in turn, one at a time, for ``seconds`` after all connected."""
    load, clock = Load(), Clock()
    tasks = [asyncio.ensure_future(_client(host, port, path, requests, clock, load)) for _ in range(clients)]
    while clock.connected < clients:  # sessions are set up outside the measured window
        await asyncio.sleep(0.01)
    started = time.perf_counter()
    clock.until = started + seconds
    clock.go.set()
    await asyncio.gather(*tasks)
    load.seconds = time.perf_counter() - started
    return load
