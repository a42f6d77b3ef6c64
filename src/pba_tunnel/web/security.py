"""What every web request passes through: Host/Origin checks, sign-in, CSRF tokens and security headers."""

from __future__ import annotations

import hmac
import math
import secrets
from collections.abc import Callable
from urllib.parse import urlsplit

from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .viewers import LOCAL, Access, Viewer

SESSION_COOKIE = "pba_session"
CSRF_COOKIE = "pba_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
# The API's rate limiter: take one from each named bucket of a client, or say which is empty and for how long.
Charge = Callable[..., tuple[str, float] | None]
SAFE_METHODS = {"GET", "HEAD"}
READ_POSTS = {"/login", "/logout", "/validate", "/preview"}
OPEN_PATHS = {"/login", "/static/style.css", "/static/app.js"}  # reachable before signing in

# No inline script or style anywhere: template text is hostile, and this keeps a slip in escaping harmless.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


def bearer(headers: Headers) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    scheme, _, sent = headers.get("authorization", "").partition(" ")
    return sent.strip() if scheme.lower() == "bearer" and sent.strip() else None


def reads_only(method: str, path: str) -> bool:
    """True for requests that change nothing (a preview or a check posts a form but writes no template)."""
    return method in SAFE_METHODS or path in READ_POSTS or (path.startswith("/t/") and path.endswith("/preview"))


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser (set as a cookie by :class:`WebGuard` when it had none)."""
    token: str = request.scope["state"]["csrf"]
    return token


def csrf_valid(request: Request, sent: str | None) -> bool:
    """True when the form or header value equals the browser's CSRF cookie (double submit)."""
    cookie = request.cookies.get(CSRF_COOKIE)
    return bool(cookie and sent) and hmac.compare_digest(str(cookie).encode(), str(sent).encode())


def same_origin(request: Request) -> bool:
    """True unless the browser says the request comes from another site (Origin, else Referer)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def viewer_of(request: Request) -> Viewer:
    """Who makes this request (set by :class:`WebGuard`)."""
    viewer: Viewer = request.scope["state"]["viewer"]
    return viewer


class WebGuard:
    """Refuse foreign Hosts/Origins, ask for sign-in when tokens are needed, add security headers to answers."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        security: TransportSecuritySettings | None,
        access: Access,
        charge: Charge | None = None,
    ) -> None:
        self.app = app
        self.hosts = TransportSecurityMiddleware(security)
        self.access = access
        self.charge = charge

    async def viewer(self, request: Request) -> Viewer | None:
        """Who is asking: anyone when no token is needed, else the holder of the session's or the header's token."""
        if not await self.access.required():
            return LOCAL
        token = request.cookies.get(SESSION_COOKIE) or bearer(request.headers)
        return None if token is None else await self.access.verify(token)

    def over_limit(self, viewer: Viewer, method: str, path: str) -> Response | None:
        """429 when the viewer's token is over the API's rate limits (a preview is a render, as over MCP)."""
        assert self.charge is not None
        kinds = ["requests"]
        if method == "POST" and path.endswith("/preview"):
            kinds.append("renders")
        elif method == "POST" and path.endswith("/enhance"):
            kinds.append("enhancements")
        refused = self.charge(viewer.rate_key, *kinds)
        if refused is None:
            return None
        kind, wait = refused
        seconds = max(1, math.ceil(wait))
        return PlainTextResponse(
            f"Too many {kind} from this token: try again in {seconds} s.",
            status_code=429,
            headers={"Retry-After": str(seconds)},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal = await self.hosts.validate_request(request, is_post=False)
        if refusal is None and request.method not in SAFE_METHODS and not same_origin(request):
            refusal = PlainTextResponse("This form was sent from another site.", status_code=403)
        viewer = await self.viewer(request) if refusal is None else None
        if refusal is None and viewer is None and scope["path"] not in OPEN_PATHS:
            refusal = RedirectResponse("/login", status_code=303)
        if refusal is None and viewer is not None and self.charge is not None:
            refusal = self.over_limit(viewer, request.method, scope["path"])
        if (
            refusal is None
            and viewer is not None
            and not viewer.can_write
            and not reads_only(request.method, scope["path"])
        ):
            refusal = PlainTextResponse(
                "Your token may only read templates: this change needs a write token.", status_code=403
            )
        fresh_csrf = None if request.cookies.get(CSRF_COOKIE) else secrets.token_urlsafe(32)
        scope.setdefault("state", {})
        scope["state"]["csrf"] = fresh_csrf or request.cookies.get(CSRF_COOKIE)
        scope["state"]["guard"] = self
        scope["state"]["viewer"] = viewer or Viewer("", "none")
        secure = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode().lower() not in SECURITY_HEADERS]
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                if fresh_csrf is not None:
                    response = Response()
                    response.set_cookie(
                        CSRF_COOKIE, fresh_csrf, httponly=True, samesite="strict", secure=secure, path="/"
                    )
                    headers += [(k, v) for k, v in response.raw_headers if k == b"set-cookie"]
                message = {**message, "headers": headers}
            await send(message)

        if refusal is not None:
            await refusal(scope, receive, with_headers)
            return
        await self.app(scope, receive, with_headers)
