"""Rate limits on HTTP: token buckets per token (per client address without one), in this process.

Three buckets per client, each refilled at a configured rate up to a burst: ``requests`` (every HTTP request),
``renders`` (``prompts/get``, ``render_template``) and ``enhancements`` (``enhance_template``). Over a limit:

- a plain HTTP request gets 429 with ``Retry-After`` (whole seconds);
- an MCP request gets the JSON-RPC error ``RATE_LIMITED`` (-32029) whose ``data`` holds ``retryAfter``
  (seconds, fractional) and ``limit`` (which bucket); the HTTP answer itself stays 200, as for any JSON-RPC
  error. A POST over the request limit still reaches the MCP dispatch, which answers each request in it so.

With ``processes`` workers (``serve --workers N``) each process enforces rate/N and burst/N (at least 1): the
sum over the workers never exceeds the configured limit; a client whose connections all land on one worker may
be held to as little as 1/N of it. Stdio has no limits (its one client is the user).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcp import MCPError
from mcp.server import ServerRequestContext
from mcp.server.context import CallNext, HandlerResult
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ..config import Settings
from .auth import identity_of, identity_of_request

RATE_LIMITED = -32029  # implementation-defined JSON-RPC server error ("429")
MAX_CLIENTS = 10_000  # buckets kept; the least recently seen client beyond this starts afresh
RENDER_TOOLS = frozenset({"render_template"})
ENHANCE_TOOLS = frozenset({"enhance_template"})
STATE_KEY = "pba_tunnel.rate_limited"  # set on a request's state when its HTTP request was over the limit


@dataclass
class Bucket:
    """A token bucket: ``rate`` per second up to ``burst``; a take costs one."""

    rate: float
    burst: float
    level: float
    stamp: float

    def wait(self, now: float) -> float:
        """Seconds until one can be taken (0: now), after refilling to ``now``."""
        self.level = min(self.burst, self.level + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.level >= 1 else (1 - self.level) / self.rate


@dataclass(frozen=True)
class Limit:
    """One kind of limit as configured for the whole server (all processes)."""

    rate: float
    burst: int

    def share(self, processes: int) -> tuple[float, float]:
        """This process's rate and burst."""
        return self.rate / processes, max(1.0, float(self.burst // processes))


class RateLimiter:
    """Buckets per client key and kind; ``charge`` takes one from each kind or says how long to wait."""

    def __init__(self, limits: Mapping[str, Limit], *, processes: int = 1, max_clients: int = MAX_CLIENTS) -> None:
        self.limits = {kind: limit.share(processes) for kind, limit in limits.items() if limit.rate > 0}
        self.max_clients = max_clients
        self._clients: OrderedDict[str, dict[str, Bucket]] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Settings, *, processes: int = 1) -> RateLimiter:
        """The limits ``PBA_TUNNEL_RATE_*`` configure."""
        return cls(
            {
                "requests": Limit(settings.rate_requests, settings.rate_requests_burst),
                "renders": Limit(settings.rate_renders, settings.rate_renders_burst),
                "enhancements": Limit(settings.rate_enhancements, settings.rate_enhancements_burst),
            },
            processes=processes,
        )

    def charge(self, key: str, *kinds: str) -> tuple[str, float] | None:
        """Take one from each bucket of ``kinds``; or, when one is empty, take none and return (kind, wait)."""
        kinds = tuple(kind for kind in kinds if kind in self.limits)
        if not kinds or not key:  # no key: a client no limit applies to (the local user without tokens)
            return None
        now = time.monotonic()
        buckets = self._buckets(key, now)
        waits = [(buckets[kind].wait(now), kind) for kind in kinds]
        longest, kind = max(waits)
        if longest > 0:
            return kind, longest
        for kind in kinds:
            buckets[kind].level -= 1
        return None

    def _buckets(self, key: str, now: float) -> dict[str, Bucket]:
        buckets = self._clients.get(key)
        if buckets is None:
            buckets = {kind: Bucket(rate, burst, burst, now) for kind, (rate, burst) in self.limits.items()}
            self._clients[key] = buckets
            if len(self._clients) > self.max_clients:
                self._clients.popitem(last=False)
        else:
            self._clients.move_to_end(key)
        return buckets


def retry_seconds(wait: float) -> int:
    """``Retry-After`` in whole seconds (at least 1)."""
    return max(1, math.ceil(wait))


def too_many(kind: str, wait: float) -> Response:
    """HTTP 429 with ``Retry-After`` for a plain HTTP request over the limit."""
    seconds = retry_seconds(wait)
    body = {
        "error": "rate_limited",
        "limit": kind,
        "retry_after": seconds,
        "message": f"too many {kind} from this client: retry in {seconds} s",
    }
    return JSONResponse(body, status_code=429, headers={"Retry-After": str(seconds)})


def rate_limited_error(kind: str, wait: float) -> MCPError:
    """The JSON-RPC error for an MCP request over the limit."""
    seconds = round(wait, 3)
    return MCPError(
        code=RATE_LIMITED,
        message=f"rate limit exceeded: too many {kind} from this client; retry in {seconds:g} s",
        data={"reason": "rate_limited", "limit": kind, "retryAfter": seconds},
    )


class HttpRateLimits:
    """Every HTTP request draws from its client's ``requests`` bucket; inside the token layer (it knows the client).

    An MCP POST over the limit is passed on, marked, so the MCP dispatch answers each request in it with a
    JSON-RPC error; any other request gets 429.
    """

    def __init__(self, app: ASGIApp, limiter: RateLimiter, *, mcp_paths: tuple[str, ...]) -> None:
        self.app = app
        self.limiter = limiter
        self.mcp_paths = mcp_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        refused = self.limiter.charge(identity_of_request(conn).rate_key, "requests")
        if refused is not None:
            if scope["method"] == "POST" and scope["path"].startswith(self.mcp_paths):
                scope.setdefault("state", {})[STATE_KEY] = refused
            else:
                await too_many(*refused)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def refuse_unauthenticated(self, conn: HTTPConnection) -> Response | None:
        """429 instead of 401 for a client that keeps sending bad tokens (each costs a store lookup)."""
        address = conn.client.host if conn.client is not None else "unknown"
        refused = self.limiter.charge(f"address:{address}", "requests")
        return None if refused is None else too_many(*refused)


def costly_kind(method: str, params: Mapping[str, Any] | None) -> str | None:
    """The extra bucket an MCP request draws from: renders, enhancements, or none."""
    if method == "prompts/get":
        return "renders"
    if method != "tools/call" or params is None:
        return None
    name = params.get("name")
    if name in RENDER_TOOLS:
        return "renders"
    if name in ENHANCE_TOOLS and "requestState" not in params:  # a 2026-07-28 continuation is the same enhancement
        return "enhancements"
    return None


class McpRateLimits:
    """SDK middleware: JSON-RPC errors for MCP requests over a limit (HTTP requests only; stdio is unlimited)."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        request = ctx.request
        if not isinstance(request, Request) or ctx.request_id is None:
            return await call_next(ctx)
        over = request.scope.get("state", {}).get(STATE_KEY)
        if over is not None:
            raise rate_limited_error(*over)
        kind = costly_kind(ctx.method, ctx.params)
        if kind is not None:
            refused = self.limiter.charge(identity_of(request).rate_key, kind)
            if refused is not None:
                raise rate_limited_error(*refused)
        return await call_next(ctx)
