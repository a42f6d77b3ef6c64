"""Who is looking at the page and what they may do: sign-in by token, sessions, scopes.

Today the one token is ``PBA_TUNNEL_AUTH_TOKEN`` (an admin). :class:`Access` is what the page asks, so tokens
of other kinds (scoped ones from the store) plug in without touching the pages: a token's scope decides which
buttons the page shows and which forms it accepts.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

SESSION_SECONDS = 12 * 3600
MAX_SESSIONS = 10_000  # sign-ins kept; the oldest is forgotten beyond (its browser signs in again)
WRITE_SCOPES = {"write", "admin"}


@dataclass(frozen=True)
class Viewer:
    """Whoever uses the page: a name (recorded as the author of what they change) and a scope."""

    name: str
    scope: str  # read, write or admin

    @property
    def can_write(self) -> bool:
        """True when this viewer may change templates."""
        return self.scope in WRITE_SCOPES

    @property
    def can_admin(self) -> bool:
        """True when this viewer may also do what only the admin scope may (move a protected label)."""
        return self.scope == "admin"


# A server that needs no token (loopback only): like an MCP client over HTTP without a token, everything but what
# only the admin scope may do (moving a protected label).
LOCAL = Viewer("web", "write")


class Access(Protocol):
    """How the page checks tokens."""

    async def required(self) -> bool:
        """True when the page must ask for a token."""
        ...

    async def verify(self, token: str) -> Viewer | None:
        """The viewer holding ``token``, or None when it is no valid token."""
        ...


class SingleToken:
    """Access with one shared token (``PBA_TUNNEL_AUTH_TOKEN``), or none at all."""

    def __init__(self, token: str | None) -> None:
        self.token = token

    async def required(self) -> bool:
        """True when the server has a token."""
        return self.token is not None

    async def verify(self, token: str) -> Viewer | None:
        """An admin viewer for the server's token (constant-time comparison)."""
        if self.token is None or not hmac.compare_digest(token.encode(), self.token.encode()):
            return None
        return Viewer("auth-token", "admin")


class Sessions:
    """Signed-in browsers: a random id per sign-in, kept in memory with the token (a restart signs everyone out).

    The token is checked again on every request, so a token that stops being valid signs its browsers out.
    """

    def __init__(self) -> None:
        self._sessions: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def start(self, token: str) -> str:
        """A new session id for ``token``, valid for ``SESSION_SECONDS``."""
        session = secrets.token_urlsafe(32)
        self._sessions[session] = (token, time.monotonic() + SESSION_SECONDS)
        while len(self._sessions) > MAX_SESSIONS:
            self._sessions.popitem(last=False)
        return session

    def token(self, session: str | None) -> str | None:
        """The token a live session signed in with, else None."""
        entry = self._sessions.get(session) if session else None
        if entry is None:
            return None
        if entry[1] < time.monotonic():
            self._sessions.pop(str(session), None)
            return None
        return entry[0]

    def end(self, session: str | None) -> None:
        """Sign a session out."""
        if session:
            self._sessions.pop(session, None)
