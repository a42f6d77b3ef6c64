"""JSON-RPC batches for 2025-03-26 clients of streamable HTTP, carried over the SDK's single-message endpoint.

Protocol 2025-03-26 lets a client POST a JSON array of messages; the SDK takes one message per POST. This layer
moves bytes: it posts each element on its own to the SDK's app (same headers, so session, auth and DNS rebinding
checks apply to each) and returns the responses it gets back as one JSON array, in request order. It answers
only what the SDK never sees: a batch that is empty, too long or holds ``initialize``, and a request the server
sends back on a batched message's stream (the client, waiting for one array, cannot receive it). When the client
disconnects, the message under way sees the disconnect as it would have alone, and the rest are not run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import anyio
import mcp.types as types
import structlog
from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE, RequestBodyLimitMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BATCH_MESSAGES = 100
BATCH_VERSION = "2025-03-26"  # the only version with batches; its clients send no version header
VERSION_HEADER = b"mcp-protocol-version"
SESSION_HEADER = b"mcp-session-id"
EVENT_STREAM = b"text/event-stream"

log = structlog.get_logger(__name__)


class BatchLayer:
    """In front of the SDK's app: a POST of a JSON array to ``path`` is split; everything else passes through."""

    def __init__(self, app: ASGIApp, path: str, max_body_size: int = DEFAULT_MAX_REQUEST_BODY_SIZE) -> None:
        self.app = app
        self.path = path
        # The SDK bounds the body behind us; bound it here too, before we buffer it.
        self.bounded = RequestBodyLimitMiddleware(self._post, max_body_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] == self.path
            and dict(scope["headers"]).get(VERSION_HEADER, BATCH_VERSION.encode()) == BATCH_VERSION.encode()
        ):
            await self.bounded(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _post(self, scope: Scope, receive: Receive, send: Send) -> None:
        consumed, body = await read_body(receive)
        batch = batch_in(body) if consumed[-1]["type"] == "http.request" else None
        if batch is None:
            await self.app(scope, replaying(consumed, receive), send)
            return
        refusal = batch_refusal(batch)
        if refusal is not None:
            await JSONResponse(error(None, refusal), status_code=400)(scope, receive, send)
            return
        await self._answer(scope, batch, receive, send)

    async def _answer(self, scope: Scope, batch: list[Any], receive: Receive, send: Send) -> None:
        left = anyio.Event()
        replies: list[Reply] = []
        async with anyio.create_task_group() as watching:
            watching.start_soon(set_on_disconnect, receive, left)
            for message in batch:
                if left.is_set():
                    break
                replies.append(await self.forward(scope, message, left))
            watching.cancel_scope.cancel()
        if left.is_set():  # nobody to answer: the messages not yet run are dropped
            log.info("the client left during a JSON-RPC batch", run=len(replies), dropped=len(batch) - len(replies))
            return
        if all(reply.status not in (200, 202) for reply in replies):  # nothing ran: refused as one message would be
            await replies[0].replay(send)
            return
        entries = [entry for message, reply in zip(batch, replies, strict=True) if (entry := answer(message, reply))]
        session = next((reply.headers[SESSION_HEADER] for reply in replies if SESSION_HEADER in reply.headers), None)
        headers = {SESSION_HEADER.decode(): session.decode("latin-1")} if session else {}
        if not entries:  # only notifications and responses
            await Response(status_code=202, headers=headers)(scope, receive, send)
            return
        response = Response(b"[" + b",".join(entries) + b"]", media_type="application/json", headers=headers)
        await response(scope, receive, send)

    async def forward(self, scope: Scope, message: Any, left: anyio.Event | None = None) -> Reply:
        """POST one message to the SDK's app with the batch's headers; the reply, read until its response came
        (or until ``left`` is set: the client disconnected, which the SDK then sees)."""
        body = json.dumps(message).encode()
        headers = [(name, value) for name, value in scope["headers"] if name != b"content-length"]
        single = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        reply = Reply(message.get("id") if is_request(message) else None)
        answered = anyio.Event()
        delivered = False

        async def receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await answered.wait()  # then the SDK stops writing the stream
            return {"type": "http.disconnect"}

        async with anyio.create_task_group() as group:

            async def send(sent: Message) -> None:
                if reply.answer is None:  # after the response, the rest of the stream is not ours to read
                    for ask in reply.take(sent):
                        group.start_soon(self.decline, scope, ask)
                if reply.answer is not None:
                    answered.set()

            async with anyio.create_task_group() as watching:
                if left is not None:
                    watching.start_soon(set_when, left, answered)
                await self.app(single, receive, send)
                watching.cancel_scope.cancel()
            answered.set()
        return reply

    async def decline(self, scope: Scope, ask: Any) -> None:
        """Answer a request the server sent on a batched message's stream: the client cannot see it."""
        message = "the client sent this request inside a JSON-RPC batch, so it cannot be asked anything back"
        await self.forward(scope, error(ask, message, types.METHOD_NOT_FOUND))


@dataclass
class Reply:
    """What the SDK's app answered to one message: status, headers and the response with the wanted id."""

    wanted: Any
    status: int = 0
    headers: dict[bytes, bytes] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)
    answer: bytes | None = None
    stream: bytes = b""

    def take(self, sent: Message) -> list[Any]:
        """Record one ASGI message; return the ids of requests the server sent on the stream."""
        if sent["type"] == "http.response.start":
            self.status = sent["status"]
            self.headers = dict(sent.get("headers", []))
            return []
        if sent["type"] != "http.response.body":
            return []
        chunk = sent.get("body", b"")
        if not self.headers.get(b"content-type", b"").startswith(EVENT_STREAM):
            self.body.extend(chunk)
            if not sent.get("more_body", False) and self.status == 200 and self.body.strip():
                self.answer = bytes(self.body)
            return []
        return self._events(chunk)

    def _events(self, chunk: bytes) -> list[Any]:
        asks: list[Any] = []
        self.stream = (self.stream + chunk).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        *events, self.stream = self.stream.split(b"\n\n")
        for event in events:
            lines = [line[5:].removeprefix(b" ") for line in event.split(b"\n") if line.startswith(b"data:")]
            data = b"\n".join(lines)
            try:
                sent = json.loads(data) if data else None
            except ValueError:
                continue
            if not isinstance(sent, dict) or "id" not in sent:
                continue
            if "method" in sent:
                asks.append(sent["id"])
            elif sent["id"] == self.wanted and self.answer is None:
                self.answer = data
        return asks

    def as_error(self, request_id: Any) -> bytes:
        """This refusal as the error response to ``request_id`` (the SDK's refusals carry no id)."""
        try:
            refusal = json.loads(self.body)
            detail = refusal["error"]
            return json.dumps({"jsonrpc": "2.0", "id": request_id, "error": dict(detail)}).encode()
        except (ValueError, KeyError, TypeError):
            return json.dumps(error(request_id, f"HTTP {self.status}", types.INTERNAL_ERROR)).encode()

    async def replay(self, send: Send) -> None:
        """Send this reply on as it came."""
        await send({"type": "http.response.start", "status": self.status, "headers": list(self.headers.items())})
        await send({"type": "http.response.body", "body": bytes(self.body), "more_body": False})


def answer(message: Any, reply: Reply) -> bytes | None:
    """The batch's entry for ``message``: its response, the SDK's refusal of it, or None for a notification."""
    if reply.answer is not None:
        return reply.answer
    if isinstance(message, dict) and "method" in message and "id" not in message:
        return None
    request_id = message.get("id") if isinstance(message, dict) else None
    if reply.status in (200, 202):
        if not is_request(message):
            return None  # a response the client posted: accepted, nothing to answer
        return json.dumps(
            error(request_id, "the server sent no response to this request", types.INTERNAL_ERROR)
        ).encode()
    return reply.as_error(request_id)


def batch_in(body: bytes) -> list[Any] | None:
    """The messages of a JSON array body; None for anything else (the SDK answers that itself)."""
    if not body.lstrip().startswith(b"["):
        return None
    try:
        batch = json.loads(body)
    except (ValueError, RecursionError):  # the SDK's own parser words the refusal
        return None
    return batch if isinstance(batch, list) else None


def batch_refusal(batch: list[Any]) -> str | None:
    """Why the whole batch is refused, if it is."""
    if not batch:
        return "the JSON-RPC batch is empty: send at least one message"
    if len(batch) > MAX_BATCH_MESSAGES:
        return f"a JSON-RPC batch holds at most {MAX_BATCH_MESSAGES} messages; this one holds {len(batch)}: split it"
    if any(isinstance(message, dict) and message.get("method") == "initialize" for message in batch):
        return "initialize must not be part of a JSON-RPC batch: send it on its own"
    return None


def is_request(message: Any) -> bool:
    """True for a JSON-RPC request (a method and an id), which gets a response."""
    return isinstance(message, dict) and "method" in message and "id" in message


def error(request_id: Any, message: str, code: int = types.INVALID_REQUEST) -> dict[str, Any]:
    """A JSON-RPC error response."""
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


async def set_on_disconnect(receive: Receive, left: anyio.Event) -> None:
    """Set ``left`` when the client disconnects (``receive`` is read only for that: the body was read before)."""
    while (await receive())["type"] != "http.disconnect":
        pass
    left.set()


async def set_when(event: anyio.Event, then: anyio.Event) -> None:
    """Set ``then`` once ``event`` is set."""
    await event.wait()
    then.set()


async def read_body(receive: Receive) -> tuple[list[Message], bytes]:
    """Read a request's body: the messages read (to replay them with ``replaying``) and the body they carry."""
    consumed: list[Message] = []
    while True:
        message = await receive()
        consumed.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    return consumed, b"".join(part.get("body", b"") for part in consumed if part["type"] == "http.request")


def replaying(consumed: list[Message], receive: Receive) -> Receive:
    """``receive`` with the messages already read from it put back in front."""
    pending = list(consumed)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
