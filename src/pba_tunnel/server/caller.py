"""Who is asking, computed in one place for every MCP request: the client's name, the author its writes record,
the label it sees and whether it may do what only the admin scope may.

Handlers and tools get a :class:`Caller` and pass its parts to the service. Over HTTP the label comes from the
request (``/mcp/LABEL`` sets it: see ``label_paths.py``); an authentication layer may set it too, through the same
request-scope key, to fix a token's label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcp.server import ServerRequestContext
from mcp.server.session import ServerSession
from starlette.requests import Request

from ..labels import LabelView
from .auth import identity_of

# Key in the ASGI scope's ``state`` (Starlette's ``request.state``) holding the label an HTTP request sees.
REQUEST_LABEL = "pba_tunnel_label"


@dataclass(frozen=True)
class Caller:
    """One request's client, author, label view and admin right."""

    client: str  # as render events and usage statistics record it; completion offers this client's values
    author: str  # recorded on every write: version, label move, delete, restore, rollback
    view: LabelView | None = None  # None: every template's newest version
    can_admin: bool = True


@dataclass(frozen=True)
class CallerDefaults:
    """What a server was started with: its transport's author, its label (``serve --label``) and admin right."""

    transport: str = "stdio"  # "stdio" or "http"
    label: str | None = None
    fallback_latest: bool = False
    can_admin: bool = True  # stdio: the local user; HTTP: only with the server's token

    def view(self, label: str | None = None) -> LabelView | None:
        """The view of ``label`` (a request's), else of the server's own label."""
        return LabelView.of(label or self.label, fallback_latest=self.fallback_latest)


def client_name(session: ServerSession) -> str | None:
    """The client's name from the handshake, when it sent one."""
    params = session.client_params
    return params.client_info.name if params is not None and params.client_info.name else None


def client_of(session: ServerSession) -> str:
    """Who is asking, as render events record it: the client's name from the handshake, else just MCP.

    Values used before are offered for completion only to the client that used them.
    """
    name = client_name(session)
    return f"mcp:{name}" if name else "mcp"


def request_label(request: Any) -> str | None:
    """The label an HTTP request was given (by its URL or its token); None on stdio or without one."""
    if not isinstance(request, Request):
        return None
    state = request.scope.get("state") or {}
    label = state.get(REQUEST_LABEL)
    return label if isinstance(label, str) else None


def caller_of(ctx: ServerRequestContext[Any], defaults: CallerDefaults) -> Caller:
    """The caller of one request: over HTTP its token (auth.py) names the author, fixes the label and decides
    the admin right; on stdio and in memory the server's own defaults do."""
    name = client_name(ctx.session)
    if not isinstance(ctx.request, Request):
        return Caller(
            client=client_of(ctx.session),
            author="stdio" if defaults.transport == "stdio" else (f"http:{name}" if name else "http"),
            view=defaults.view(),
            can_admin=defaults.can_admin,
        )
    identity = identity_of(ctx.request)
    return Caller(
        client=client_of(ctx.session),
        author=identity.author if identity.token else (f"http:{name}" if name else "http"),
        view=defaults.view(identity.label or request_label(ctx.request)),
        can_admin=identity.may("admin"),
    )
