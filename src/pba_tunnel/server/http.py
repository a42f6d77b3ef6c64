"""Streamable HTTP and SSE: DNS-rebinding checks on loopback, tokens (auth.py), rate limits, ``/healthz`` and
``/readyz``."""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import ipaddress
import socket
from typing import Any

import anyio
import uvicorn
from mcp.server.sse import SseServerTransport
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import ConfigError, PbaError
from .answer_modes import STREAMED_GET_ONLY, ByClient, answer_managers, running
from .app import McpApp
from .batches import BatchLayer
from .event_store import MemoryEventStore, SessionScope
from .gate import guarded
from .label_paths import LabelPaths
from .rate_limit import RateLimiter
from .request_deadline import HeaderDeadlineLink, header_deadline_protocol
from .run_options import Answers
from .session_limits import SessionLimits

SESSION_IDLE_SECONDS = 300  # a session nobody used for five minutes is closed (the SDK's default is 30 min)
MAX_SESSIONS = 1000  # then new sessions get 503 until idle ones expire
RETRY_MILLISECONDS = 1000  # how soon a client whose stream dropped should reconnect (sent as SSE ``retry``)
BODY_SECONDS = 30.0  # longest a client may take to send a request body (headers: request_deadline.py)
MAX_OPEN_CONNECTIONS = 4096  # beyond this, 503 at once

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
OPEN_PATHS = {"/healthz", "/readyz"}
MCP_PATHS = {"/mcp", "/sse", *OPEN_PATHS}  # and everything under /mcp/ and /messages; the web page has the rest


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, token: str | None) -> None:
    """Refuse to serve beyond loopback without a token."""
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"binding to {host} exposes your templates to the network: pass --auth-token or set "
            "PBA_TUNNEL_AUTH_TOKEN (clients then send 'Authorization: Bearer <token>'), or bind to 127.0.0.1"
        )


def rebinding_protection(host: str) -> TransportSecuritySettings | None:
    """Host and Origin allow-lists for loopback binds (a web page cannot reach us through DNS rebinding)."""
    if not is_loopback(host):
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    bound = f"[{host}]" if ":" in host else host  # the loopback address served may be any of 127.0.0.0/8
    names = ["127.0.0.1", "localhost", "[::1]", bound]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[*(f"{name}:*" for name in names), *names],
        allowed_origins=[f"http://{name}:*" for name in names],
    )


class BodyDeadline:
    """A client that takes longer than ``seconds`` to send a request body is treated as gone (slow-loris)."""

    def __init__(self, app: ASGIApp, seconds: float = BODY_SECONDS) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = anyio.current_time() + self.seconds
        body_done = False

        async def bounded_receive() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()  # after the body: only the disconnect is left to wait for
            with anyio.move_on_after(max(deadline - anyio.current_time(), 0)):
                message = await receive()
                body_done = message["type"] != "http.request" or not message.get("more_body", False)
                return message
            return {"type": "http.disconnect"}

        await self.app(scope, bounded_receive, send)


class WithWebPage:
    """MCP paths (and lifespan) to the MCP app, every other path to the web page, which guards itself."""

    def __init__(self, mcp: ASGIApp, web: ASGIApp) -> None:
        self.mcp = mcp
        self.web = web

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in MCP_PATHS or path.startswith(("/mcp/", "/messages")):
            await self.mcp(scope, receive, send)
        else:
            await self.web(scope, receive, send)


def bearer_matches(headers: dict[bytes, bytes], token: bytes) -> bool:
    """True when the headers carry ``Authorization: Bearer <token>`` (scheme case-insensitive, constant time)."""
    scheme, _, sent = headers.get(b"authorization", b"").partition(b" ")
    return scheme.lower() == b"bearer" and hmac.compare_digest(sent.strip(), token)


def health_route(app: McpApp, token: str | None = None) -> Route:
    """``GET /healthz``: 200 when the store answers, 503 otherwise.

    Anyone may ask whether the server lives; the details (store kind, latency, pool, change listener, template
    count, why the store fails) go only to a caller with the token when one is set. No answer names a path or a
    host: the log has those.
    """

    async def healthz(request: Request) -> Response:
        detailed = token is None or bearer_matches(dict(request.scope["headers"]), token.encode())
        try:
            service = await app.slot.get()
            health = await service.health()
            count = await service.count()
        except PbaError as exc:
            body: dict[str, Any] = {"status": "error"}
            if detailed:
                body.update(store="unreachable", error=exc.code)
                opened = app.slot.opened
                listener = opened.store_listener_state() if opened is not None else None
                if listener is not None:
                    body["listener"] = {"state": listener.state, "reconnects": listener.reconnects}
            return JSONResponse(body, status_code=503)
        if not detailed:
            return JSONResponse({"status": "ok"})
        body = {
            "status": "ok",
            "store": "reachable",
            "kind": health.kind,
            "latency_ms": health.latency_ms,
            "templates": count,
            "pool": dataclasses.asdict(health.pool),
            "listener": None if health.listener is None else dataclasses.asdict(health.listener),
        }
        return JSONResponse(body)

    return Route("/healthz", healthz, methods=["GET"])


def ready_route(app: McpApp) -> Route:
    """``GET /readyz``: 503 until the store was opened once (migrated, first connection made), then 200."""

    async def readyz(_request: Request) -> Response:
        if app.slot.opened is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        return JSONResponse({"status": "ready"})

    return Route("/readyz", readyz, methods=["GET"])


def streamable_http_app(
    app: McpApp, *, host: str, stateless: bool, token: str | None = None, answers: Answers = "json"
) -> ASGIApp:
    """The streamable HTTP app at ``/mcp`` (which takes 2025-03-26 batches) plus ``/healthz``; streams resume.

    ``answers``: JSON bodies, SSE streams, or (stateful) chosen per client (``answer_modes.py``)."""
    routes = [health_route(app, token), ready_route(app)]
    sdk_app: ASGIApp
    if answers == "by-client" and not stateless:
        managers = answer_managers(
            app.server,
            retry_interval=RETRY_MILLISECONDS,
            session_idle_timeout=SESSION_IDLE_SECONDS,
            max_sessions=MAX_SESSIONS,
            security_settings=rebinding_protection(host),
        )
        router = ByClient(*managers, remembered=4 * MAX_SESSIONS)
        sdk_app = Starlette(routes=[Route("/mcp", router), *routes], lifespan=lambda _app: running(*managers))
    else:
        kept = None if answers == "sse" else STREAMED_GET_ONLY  # JSON bodies are never resumed
        sdk_app = app.server.streamable_http_app(
            streamable_http_path="/mcp",
            stateless_http=stateless,
            json_response=answers != "sse",
            event_store=None if stateless else MemoryEventStore(streams=kept),
            retry_interval=RETRY_MILLISECONDS,
            session_idle_timeout=SESSION_IDLE_SECONDS,
            max_sessions=MAX_SESSIONS,
            transport_security=rebinding_protection(host),
            host=host,
            custom_starlette_routes=routes,
        )
    batches = BatchLayer(sdk_app, "/mcp")
    return batches if stateless else SessionScope(batches)  # the scope only serves the event store


class SseEndpoint:
    """``GET /sse`` as a plain ASGI app: the SDK's SSE transport needs the raw ``send``."""

    def __init__(self, app: McpApp, transport: SseServerTransport) -> None:
        self.app = app
        self.transport = transport

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with self.transport.connect_sse(scope, receive, send) as (reads, writes):
            await self.app.server.run(reads, writes, self.app.initialization_options())


def sse_app(app: McpApp, *, host: str, token: str | None = None) -> Starlette:
    """The SSE transport for older clients: ``GET /sse`` and ``POST /messages/``."""
    transport = SseServerTransport("/messages/", security_settings=rebinding_protection(host))
    return Starlette(
        routes=[
            Route("/sse", SseEndpoint(app, transport), methods=["GET"]),
            Mount("/messages/", app=transport.handle_post_message),
            health_route(app, token),
            ready_route(app),
        ]
    )


def http_asgi(
    app: McpApp,
    *,
    transport: str,
    host: str,
    stateless: bool,
    token: str | None,
    sessions_per_client: int = 64,
    rate_limiter: RateLimiter | None = None,
    answers: Answers = "json",
) -> ASGIApp:
    """The whole HTTP app of one process: the transport, session limits, tokens, rate limits, the web page beside
    them, the body deadline, and outermost the link to the header deadline of the connection."""
    asgi: Any = (
        sse_app(app, host=host, token=token)
        if transport == "sse"
        else streamable_http_app(app, host=host, stateless=stateless, token=token, answers=answers)
    )
    if transport == "http" and not stateless:
        asgi = SessionLimits(asgi, path="/mcp", per_client=sessions_per_client, idle_seconds=SESSION_IDLE_SECONDS)
    if transport == "http":
        asgi = LabelPaths(asgi, "/mcp")  # outside the session bound and batches, which see every request as /mcp
    asgi = guarded(asgi, app, token=token, open_paths=OPEN_PATHS, limiter=rate_limiter)
    from ..web import web_app

    page = web_app(
        app.slot.get,
        security=rebinding_protection(host),
        token=token,
        after_write=app.notifier.check,
        charge=rate_limiter.charge if rate_limiter is not None else None,
        loopback=is_loopback(host),
    )
    return HeaderDeadlineLink(BodyDeadline(WithWebPage(asgi, page)))


def uvicorn_options(host: str, port: int, protocol: type[asyncio.Protocol]) -> dict[str, Any]:
    """How uvicorn serves us, in one process or in several: ``protocol`` is a request_deadline.py class."""
    return {
        "host": host,
        "port": port,
        "http": protocol,
        "log_level": "warning",
        "lifespan": "on",
        "access_log": False,
        "limit_concurrency": MAX_OPEN_CONNECTIONS,
        "ws": "none",  # no WebSocket routes: importing a WebSocket library would only slow the start
    }


async def serve_http(
    app: McpApp,
    *,
    transport: str,
    host: str,
    port: int,
    stateless: bool,
    token: str | None,
    sessions_per_client: int = 64,
    rate_limiter: RateLimiter | None = None,
    answers: Answers = "json",
    header_seconds: float,
    sockets: list[socket.socket],
) -> None:
    """Serve HTTP on ``sockets`` (listening already, see listening.py) until cancelled, with the change watcher
    beside it; tokens and rate limits in front, and a deadline of ``header_seconds`` for each request's headers."""
    check_exposure(host, token)
    asgi = http_asgi(
        app,
        transport=transport,
        host=host,
        stateless=stateless,
        token=token,
        sessions_per_client=sessions_per_client,
        rate_limiter=rate_limiter,
        answers=answers,
    )
    protocol = header_deadline_protocol(header_seconds)
    server = uvicorn.Server(uvicorn.Config(asgi, **uvicorn_options(host, port, protocol)))
    async with app.notifier.watching():
        await server.serve(sockets=sockets)
