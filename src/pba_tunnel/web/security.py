"""What every web request passes through: Host/Origin checks, sign-in, CSRF tokens and security headers."""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict
from urllib.parse import urlsplit

from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "pba_session"
CSRF_COOKIE = "pba_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_SECONDS = 12 * 3600
MAX_SESSIONS = 10_000  # sign-ins kept; the oldest is forgotten beyond (its browser signs in again)
SAFE_METHODS = {"GET", "HEAD"}
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


def bearer_sent(headers: Headers, token: str) -> bool:
    """True when ``Authorization: Bearer <token>`` was sent (constant-time comparison)."""
    scheme, _, sent = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode())


class Sessions:
    """Signed-in browsers: a random id per sign-in, kept in memory (a restart signs everyone out)."""

    def __init__(self) -> None:
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def start(self) -> str:
        """A new session id, valid for ``SESSION_SECONDS``."""
        session = secrets.token_urlsafe(32)
        self._expiry[session] = time.monotonic() + SESSION_SECONDS
        while len(self._expiry) > MAX_SESSIONS:
            self._expiry.popitem(last=False)
        return session

    def valid(self, session: str | None) -> bool:
        """True for a session that was started and has not expired or ended."""
        if not session:
            return False
        expiry = self._expiry.get(session)
        if expiry is None or expiry < time.monotonic():
            self._expiry.pop(session, None)
            return False
        return True

    def end(self, session: str | None) -> None:
        """Sign a session out."""
        if session:
            self._expiry.pop(session, None)


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


class WebGuard:
    """Refuse foreign Hosts/Origins, ask for sign-in when a token is set, add security headers to answers."""

    def __init__(self, app: ASGIApp, *, security: TransportSecuritySettings | None, token: str | None) -> None:
        self.app = app
        self.hosts = TransportSecurityMiddleware(security)
        self.token = token
        self.sessions = Sessions()

    def signed_in(self, request: Request) -> bool:
        """True when no token is needed, or the browser signed in, or the request carries the token."""
        if self.token is None:
            return True
        return self.sessions.valid(request.cookies.get(SESSION_COOKIE)) or bearer_sent(request.headers, self.token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal = await self.hosts.validate_request(request, is_post=False)
        if refusal is None and request.method not in SAFE_METHODS and not same_origin(request):
            refusal = PlainTextResponse("This form was sent from another site.", status_code=403)
        if refusal is None and scope["path"] not in OPEN_PATHS and not self.signed_in(request):
            refusal = RedirectResponse("/login", status_code=303)
        fresh_csrf = None if request.cookies.get(CSRF_COOKIE) else secrets.token_urlsafe(32)
        scope.setdefault("state", {})
        scope["state"]["csrf"] = fresh_csrf or request.cookies.get(CSRF_COOKIE)
        scope["state"]["guard"] = self
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
