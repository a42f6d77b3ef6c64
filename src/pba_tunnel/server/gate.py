"""What stands in front of the MCP app over HTTP: token authentication, then the client's rate limits."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp

from .app import McpApp
from .auth import token_auth
from .rate_limit import HttpRateLimits, McpRateLimits, RateLimiter

MCP_PATHS = ("/mcp", "/messages")  # POSTs here carry JSON-RPC: over the limit, the MCP dispatch answers them


def guarded(
    asgi: ASGIApp, app: McpApp, *, token: str | None, open_paths: Iterable[str], limiter: RateLimiter | None
) -> ASGIApp:
    """``asgi`` behind tokens (``token`` is PBA_TUNNEL_AUTH_TOKEN) and, when ``limiter`` is given, rate limits."""
    refuse_early = None
    if limiter is not None:
        app.server.middleware.append(McpRateLimits(limiter))  # renders, enhancements, and marked POSTs
        limits = HttpRateLimits(asgi, limiter, mcp_paths=MCP_PATHS)
        refuse_early = limits.refuse_unauthenticated
        asgi = limits
    return token_auth(asgi, app.slot, token, open_paths=frozenset(open_paths), on_refused=refuse_early)
