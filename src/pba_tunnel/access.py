"""Who is asking and what they may do: scopes and the identity of one request. Knows nothing of HTTP or MCP.

A request reaches the service from a token over HTTP, from the single ``PBA_TUNNEL_AUTH_TOKEN``, from an
anonymous client on loopback (no token anywhere), from stdio or from the command line. Each becomes one
:class:`RequestIdentity`: its name is the author recorded on what the request changes, its scope bounds what
it may do, its label (a token's fixed label) is the only version of each template it sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Scope = Literal["read", "write", "admin"]
SCOPES: tuple[Scope, ...] = get_args(Scope)  # weakest first: each scope may do what the ones before it may

ENV_TOKEN_NAME = "auth-token"  # the author of requests made with PBA_TUNNEL_AUTH_TOKEN (a reserved token name)
ANONYMOUS_NAME = "http"  # the author of requests over HTTP when the server has no token at all


def allows(have: Scope, need: Scope) -> bool:
    """True when a holder of ``have`` may do what needs ``need``."""
    return SCOPES.index(have) >= SCOPES.index(need)


@dataclass(frozen=True)
class RequestIdentity:
    """One request's principal: name (the author), scope, fixed label, and the key its rate limits count by.

    ``token`` is False for requests that presented no token (stdio, CLI, anonymous loopback HTTP).
    """

    name: str
    scope: Scope
    label: str | None = None
    token: bool = False
    rate_key: str = ""

    @property
    def author(self) -> str:
        """What a version, label move or deletion made by this request records as its author."""
        return self.name

    def may(self, need: Scope) -> bool:
        """True when this identity holds ``need`` (or a stronger scope)."""
        return allows(self.scope, need)


STDIO = RequestIdentity("stdio", "admin")  # the one local client on stdio may do everything
CLI = RequestIdentity("cli", "admin")  # the person at the shell owns the store


def anonymous() -> RequestIdentity:
    """An HTTP client of a server that has no token at all (loopback only): everything but what needs admin.

    It is the local user, as on stdio, so no rate limit applies (an empty rate key); rate limits count tokens,
    and the addresses of clients that send bad ones.
    """
    return RequestIdentity(ANONYMOUS_NAME, "write", rate_key="")


def env_token_identity() -> RequestIdentity:
    """The holder of the single ``PBA_TUNNEL_AUTH_TOKEN``: an admin."""
    return RequestIdentity(ENV_TOKEN_NAME, "admin", token=True, rate_key=f"token:{ENV_TOKEN_NAME}")
