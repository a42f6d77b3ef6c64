"""Who is looking at the page and what they may do: sign-in by token, sessions, scopes.

The page takes the API's tokens: ``PBA_TUNNEL_AUTH_TOKEN`` (an admin) and the store's tokens (``pba-tunnel token
create``), with the same rule as HTTP clients: tokens are needed once the server has one or the store holds a live
one. A token's scope decides which buttons the page shows and which forms it accepts; its fixed label, which
version of each template it sees; its name is the author of what it changes.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..access import RequestIdentity, env_token_identity

if TYPE_CHECKING:
    from ..service import TemplateService

# A sign-in lasts this long. The cookie holds the token itself (HttpOnly, SameSite=Strict): every worker process
# of a server can check it, and a revoked token signs its browsers out at once.
SESSION_SECONDS = 12 * 3600
WRITE_SCOPES = {"write", "admin"}


@dataclass(frozen=True)
class Viewer:
    """Whoever uses the page: a name (recorded as the author of what they change) and a scope."""

    name: str
    scope: str  # read, write or admin
    label: str | None = None  # a token fixed to a label sees only that label's versions
    rate_key: str = ""  # whose rate limits apply ("": none, as for the local user without tokens)

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
LIVE_TOKENS_SECONDS = 1.0  # how long "the store has tokens" is trusted (as for HTTP clients)


class Access(Protocol):
    """How the page checks tokens."""

    async def required(self) -> bool:
        """True when the page must ask for a token."""
        ...

    async def verify(self, token: str) -> Viewer | None:
        """The viewer holding ``token``, or None when it is no valid token."""
        ...

    async def refusal(self, token: str) -> str | None:
        """Why a known token cannot sign in, when that is more than "not a valid token" (a bad fixed label)."""
        ...


class ApiTokens:
    """The API's tokens: the server's own (``PBA_TUNNEL_AUTH_TOKEN``) and the store's."""

    def __init__(self, get_service: Callable[[], Awaitable[TemplateService]], token: str | None) -> None:
        self.get_service = get_service
        self.token = token
        self._live = (-LIVE_TOKENS_SECONDS, False)  # (when the store was asked, whether it had live tokens)

    async def required(self) -> bool:
        """True when the server has a token or the store holds a live one."""
        if self.token is not None:
            return True
        looked, live = self._live
        if time.monotonic() - looked >= LIVE_TOKENS_SECONDS:
            live = await (await self.get_service()).tokens.any_live()
            self._live = (time.monotonic(), live)
        return live

    async def verify(self, token: str) -> Viewer | None:
        """The viewer holding ``token``: the server's token is an admin; a store token has its own scope."""
        identity: RequestIdentity | None
        if self.token is not None and hmac.compare_digest(token.encode(), self.token.encode()):
            identity = env_token_identity()
        else:
            identity = (await (await self.get_service()).tokens.verify(token)).identity
        if identity is None:
            return None
        return Viewer(identity.author, identity.scope, identity.label, identity.rate_key)

    async def refusal(self, token: str) -> str | None:
        """Why a store token that exists cannot sign in: it was stored with a label that names no label."""
        verdict = await (await self.get_service()).tokens.verify(token)
        if verdict.refusal != "invalid_label":
            return None
        return (
            f"The token '{verdict.name}' is fixed to the label '{verdict.label}', which is not a valid label name, "
            "so it cannot be used: an admin must revoke it and create it again with a valid label."
        )
