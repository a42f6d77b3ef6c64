"""Streamable-HTTP sessions bounded per client, so one client cannot take every session the server has.

The SDK bounds sessions in total and ends idle ones; it does not say who holds them. This ASGI layer notes the
client of every session it sees created (the bearer token when one is sent, else the peer address) and refuses
a new session to a client that already holds ``per_client`` live ones: HTTP 429 with ``Retry-After``. A session
counts as live until its client deletes it or it has been idle as long as the SDK lets it be.
"""

from __future__ import annotations

import hashlib
import json
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .event_store import SESSION_HEADER


def client_of(scope: Scope) -> str:
    """Who is asking: the token they present (hashed), else their address."""
    authorization = dict(scope["headers"]).get(b"authorization")
    if authorization:
        return "token:" + hashlib.sha256(authorization).hexdigest()[:16]
    peer = scope.get("client")
    return f"address:{peer[0]}" if peer else "address:unknown"


class SessionLimits:
    """Refuses a new MCP session to a client that holds ``per_client`` live sessions already."""

    def __init__(self, app: ASGIApp, *, path: str, per_client: int, idle_seconds: float) -> None:
        self.app = app
        self.path = path
        self.per_client = per_client
        self.idle_seconds = idle_seconds
        self._sessions: dict[bytes, tuple[str, float]] = {}  # session id -> (client, last seen)

    def _live(self, client: str, now: float) -> int:
        for session, (_owner, seen) in list(self._sessions.items()):
            if now - seen > self.idle_seconds:
                del self._sessions[session]
        return sum(1 for owner, _seen in self._sessions.values() if owner == client)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        now = time.monotonic()
        session = dict(scope["headers"]).get(SESSION_HEADER)
        if session is not None:
            if session in self._sessions:
                owner = self._sessions[session][0]
                if scope["method"] == "DELETE":
                    del self._sessions[session]
                else:
                    self._sessions[session] = (owner, now)
            await self.app(scope, receive, send)
            return
        client = client_of(scope)
        if scope["method"] == "POST" and self._live(client, now) >= self.per_client:
            await refuse(send, self.per_client)
            return

        async def noting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                for name, value in message.get("headers", ()):
                    if name.lower() == SESSION_HEADER:
                        self._sessions[value] = (client, time.monotonic())
            await send(message)

        await self.app(scope, receive, noting_send)


async def refuse(send: Send, limit: int) -> None:
    """HTTP 429 with a JSON-RPC error saying why and when to try again."""
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": None,
            "error": {
                "code": -32000,
                "message": f"this client already holds {limit} MCP sessions: end one (DELETE /mcp) or reuse it",
            },
        }
    ).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"retry-after", b"60"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})
