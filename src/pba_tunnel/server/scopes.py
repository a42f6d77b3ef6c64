"""What each MCP tool needs of a token, and what a request may see and call.

``read`` covers prompts, resources, completions and every read-only tool; ``write`` adds the tools that change
templates (create, update, delete, restore, rollback, enhance, non-protected labels); ``admin`` adds what
``TOOL_SCOPES`` reserves for it (protected labels are checked by the label code itself, which raises
``ScopeError``). A tool not named here needs ``read`` when it is read-only and ``write`` otherwise, so a new
tool is never open to less than its annotations say.
"""

from __future__ import annotations

import mcp.types as types

from ..access import RequestIdentity, Scope
from ..errors import ScopeError
from .auth import identity_of
from .errors import tool_error

TOOL_SCOPES: dict[str, Scope] = {}  # exceptions to the rule above (none yet)


def required_scope(tool: str) -> Scope:
    """The scope a token needs to call ``tool``."""
    from .tools import TOOLS

    if tool in TOOL_SCOPES:
        return TOOL_SCOPES[tool]
    spec = TOOLS.get(tool)
    return "read" if spec is None or spec.read_only else "write"


def scope_refusal(tool: str, need: Scope, identity: RequestIdentity) -> str:
    """The tool error for a call beyond the token's scope: which scope it needs and which one it has."""
    return (
        f"{tool} needs a token with the '{need}' scope; this request's token '{identity.name}' has the "
        f"'{identity.scope}' scope. Ask the server's owner for a '{need}' token "
        "(tools/list shows only the tools this token may call)."
    )


def denied_call(request: object, tool: str) -> types.CallToolResult | None:
    """The tool error when the request behind ``ctx.request`` may not call ``tool``; None when it may."""
    identity = identity_of(request)
    need = required_scope(tool)
    return None if identity.may(need) else tool_error(scope_refusal(tool, need, identity), code=ScopeError.code)


def visible_tools(request: object, tools: list[types.Tool]) -> list[types.Tool]:
    """The tools the request behind ``ctx.request`` may call (``tools/list`` shows no others)."""
    identity = identity_of(request)
    if identity.scope == "admin":
        return tools
    return [tool for tool in tools if identity.may(required_scope(tool.name))]
