"""Who sends an HTTP request: the bearer token checked against ``PBA_TUNNEL_AUTH_TOKEN`` and the store's tokens.

Starlette's ``AuthenticationMiddleware`` runs :class:`TokenBackend` on every request and puts the result in the
ASGI scope (``scope["user"]``); the MCP SDK hands that request to our handlers as ``ctx.request``, so
:func:`identity_of` finds the identity of each MCP request there. A token's user is the SDK's
``AuthenticatedUser``, so the SDK also binds each session to the token that opened it.

Tokens are required when the server has ``PBA_TUNNEL_AUTH_TOKEN`` or the store holds a live token; a server with
neither (loopback only, see ``check_exposure``) serves everyone with the ``write`` scope: every tool, as before
tokens existed, but not what only an admin may do (move a protected label).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable

import anyio
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from starlette.authentication import AuthCredentials, AuthenticationBackend, AuthenticationError, BaseUser
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp

from ..access import STDIO, RequestIdentity, anonymous, env_token_identity
from ..errors import PbaError
from .slot import ServiceSlot

REALM = 'Bearer realm="pba-tunnel"'
LIVE_TOKENS_SECONDS = 1.0  # how long "the store has tokens" is trusted: a first token locks anonymous out within 1 s
MISSING = "send the server's token as 'Authorization: Bearer <token>'"
REFUSALS = {
    "expired": "this token has expired: ask its owner for a new one (pba-tunnel token create)",
    "revoked": "this token was revoked: ask its owner for a new one (pba-tunnel token create)",
}


class TokenUser(AuthenticatedUser):
    """A request made with a token; the SDK binds sessions to it (a session answers only its own token)."""

    def __init__(self, identity: RequestIdentity) -> None:
        super().__init__(AccessToken(token=identity.rate_key, client_id=identity.name, scopes=[identity.scope]))
        self.request_identity = identity


class AnonymousUser(BaseUser):
    """A request to a server that has no token at all."""

    def __init__(self, identity: RequestIdentity) -> None:
        self.request_identity = identity

    @property
    def is_authenticated(self) -> bool:
        return False

    @property
    def display_name(self) -> str:
        return self.request_identity.name


class Refused(AuthenticationError):
    """A request without a usable token: why (``missing``, ``unknown``, ``expired``, ``revoked``, ``store``,
    ``invalid_label``); ``message`` words a refusal whose facts vary (the token's name and bad label)."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


def bearer(conn: HTTPConnection) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive), else None."""
    scheme, _, sent = conn.headers.get("authorization", "").partition(" ")
    return sent.strip() if scheme.lower() == "bearer" and sent.strip() else None


def address_of(conn: HTTPConnection) -> str:
    """The client's address as the server sees it."""
    return conn.client.host if conn.client is not None else "unknown"


class TokenBackend(AuthenticationBackend):
    """Turns a request's bearer token into a :class:`RequestIdentity`, or refuses it."""

    def __init__(self, slot: ServiceSlot, env_token: str | None, open_paths: frozenset[str]) -> None:
        self.slot = slot
        self.env_token = env_token.encode() if env_token else None
        self.open_paths = open_paths
        self._live: tuple[float, bool] | None = None  # (when looked, store had live tokens), once looked
        # One look at a time, and only its request waits for it: the others go on with the last answer meanwhile.
        # Under 50 clients every request in flight used to query the store each second, and queued behind
        # whatever the store was writing (the usage batch), so every request stalled at once.
        self._looking = anyio.Lock()

    async def _tokens_required(self) -> bool:
        if self.env_token is not None:
            return True
        known = self._live
        if known is not None and (time.monotonic() - known[0] < LIVE_TOKENS_SECONDS or self._looking.locked()):
            return known[1]  # fresh, or another request is looking again
        async with self._looking:  # only before the first answer do several requests wait for one look
            known = self._live
            if known is None or time.monotonic() - known[0] >= LIVE_TOKENS_SECONDS:
                known = (time.monotonic(), await (await self.slot.get()).tokens.any_live())
                self._live = known
        return known[1]

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        """The request's identity; :class:`Refused` when it needs a token it did not present."""
        if conn.url.path in self.open_paths:
            return None
        sent = bearer(conn)
        if sent is not None and self.env_token is not None and hmac.compare_digest(sent.encode(), self.env_token):
            return credentials(TokenUser(env_token_identity()))
        try:
            if sent is not None:
                verdict = await (await self.slot.get()).tokens.verify(sent)
                if verdict.identity is not None:
                    return credentials(TokenUser(verdict.identity))
                if verdict.refusal in REFUSALS:
                    raise Refused(verdict.refusal or "unknown")
                if verdict.refusal == "invalid_label":
                    raise Refused("invalid_label", bad_label_refusal(verdict.name or "?", verdict.label or ""))
            if await self._tokens_required():
                raise Refused("unknown" if sent is not None else "missing")
        except PbaError:
            if sent is not None:
                raise Refused("store") from None
            # Without a token and without the store nothing can be served: let the request say why.
        return credentials(AnonymousUser(anonymous()))


def bad_label_refusal(name: str, label: str) -> str:
    """Why a token stored with a label that names no label cannot be used, and who can fix it."""
    return (
        f"token '{name}' is fixed to the label {label!r}, which is not a valid label name (lowercase letters, "
        "digits, '-' and '_'), so it cannot be used: an admin must revoke it and create it again with a valid "
        f"label (pba-tunnel token revoke {name}; pba-tunnel token create {name} --scope ... --label ...)"
    )


def credentials(user: TokenUser | AnonymousUser) -> tuple[AuthCredentials, BaseUser]:
    """What AuthenticationMiddleware puts in the scope for ``user``."""
    return AuthCredentials([user.request_identity.scope]), user


def refusal_response(exc: Refused) -> Response:
    """401 with ``WWW-Authenticate`` for a missing or bad token; 503 when the store cannot check it."""
    if exc.reason == "store":
        body = {"error": "unavailable", "message": "the token store is unavailable; try again shortly"}
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})
    if exc.reason in REFUSALS or exc.message is not None:
        described = exc.reason.replace("_", " ")
        challenge = f'{REALM}, error="invalid_token", error_description="token {described}"'
        return JSONResponse(
            {"error": "unauthorized", "reason": exc.reason, "message": exc.message or REFUSALS[exc.reason]},
            status_code=401,
            headers={"WWW-Authenticate": challenge},
        )
    return JSONResponse(
        {"error": "unauthorized", "message": MISSING}, status_code=401, headers={"WWW-Authenticate": REALM}
    )


def token_auth(
    app: ASGIApp,
    slot: ServiceSlot,
    env_token: str | None,
    *,
    open_paths: frozenset[str],
    on_refused: Callable[[HTTPConnection], Response | None] | None = None,
) -> ASGIApp:
    """``app`` behind token authentication; ``on_refused`` may answer a refused request first (rate limits)."""

    def on_error(conn: HTTPConnection, exc: AuthenticationError) -> Response:
        early = on_refused(conn) if on_refused is not None else None
        if early is not None:
            return early
        return refusal_response(exc if isinstance(exc, Refused) else Refused("unknown"))

    return AuthenticationMiddleware(app, TokenBackend(slot, env_token, open_paths), on_error=on_error)


def identity_of_request(request: HTTPConnection | None) -> RequestIdentity:
    """The identity :class:`TokenBackend` gave an HTTP request; stdio's when there is no HTTP request."""
    if request is None:
        return STDIO
    user = request.scope.get("user")
    if isinstance(user, TokenUser | AnonymousUser):
        return user.request_identity
    return anonymous()  # a path served without authentication


def identity_of(request: object) -> RequestIdentity:
    """The identity of an MCP request, from the SDK's ``ctx.request`` (None on stdio and in memory)."""
    return identity_of_request(request if isinstance(request, Request) else None)
