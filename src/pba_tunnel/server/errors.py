"""How core errors reach MCP clients: JSON-RPC errors for protocol requests, ``isError`` tool results.

The core says what went wrong (a stable code and the facts); the remedies here are worded for a model or an MCP
client: which request or tool to call next, and the shape of the arguments to send.
"""

from __future__ import annotations

import json

import mcp.types as types
from mcp import MCPError

from ..errors import (
    AdminRequiredError,
    ArgumentError,
    ArgumentTooLargeError,
    ArgumentTypeError,
    MissingArgumentsError,
    NotFoundError,
    PbaError,
    StoreError,
    VersionNotFoundError,
    VersionNotShownError,
)

INVALID_PARAMS = types.INVALID_PARAMS
INTERNAL_ERROR = types.INTERNAL_ERROR
RESOURCE_NOT_FOUND = -32002  # the MCP specification's code for an unknown resource URI

FIND_NAMES = "call prompts/list or the search_templates tool to find the names"
# Every tool error carries its stable code in the result's ``_meta`` under this key, for programs that branch on it
# (the text is for the model). Not in ``structuredContent``: that must match the tool's output schema.
ERROR_CODE_KEY = "pba-tunnel/code"
UNKNOWN_TOOL = "unknown_tool"  # codes of refusals the MCP layer itself makes (the core's are on its errors)


def other_versions(label: str) -> str:
    """What a client that sees only ``label``'s versions can do to read another version or a history."""
    return (
        f"this connection sees only the '{label}' version of each template (its /mcp/{label} URL, its token or the "
        f"server's --label fixes that); connect through a URL or with a token without the label to see others"
    )


def remedy(exc: PbaError) -> str:
    """What an MCP client or model can do about ``exc`` (empty when the message says it all)."""
    if isinstance(exc, MissingArgumentsError):
        example = json.dumps(dict.fromkeys(exc.missing, "..."))
        return f"pass them in arguments, e.g. {example}"
    if isinstance(exc, VersionNotShownError):
        return other_versions(exc.label)
    if isinstance(exc, VersionNotFoundError):
        return "" if exc.newest is not None else "the template_history tool lists its versions"
    if isinstance(exc, NotFoundError) and exc.name is not None:
        return "the restore_template tool brings it back" if exc.deleted else FIND_NAMES
    if isinstance(exc, ArgumentTypeError) and exc.expected == "string":
        scalar = isinstance(exc.value, int | float)  # a number's or boolean's JSON text; other values: words
        sent = json.dumps(exc.value) if scalar else "..."
        return f"send it as a JSON string, e.g. {json.dumps({exc.name: sent})}"
    if isinstance(exc, ArgumentTypeError):
        return f"send a JSON {exc.expected} or its text as a string"
    if isinstance(exc, AdminRequiredError):
        return f"connect with a token that has the {exc.scope} scope, or ask someone who has it"
    return ""


def explain(exc: PbaError) -> str:
    """The core's facts with the MCP remedy after them."""
    advice = remedy(exc)
    return f"{exc.message}; {advice}" if advice else exc.message


def protocol_error(exc: PbaError) -> MCPError:
    """The JSON-RPC error for a failed prompt or resource request (-32602 for what the caller got wrong)."""
    data = {"reason": exc.code}
    if isinstance(exc, NotFoundError | ArgumentError | ArgumentTooLargeError):
        return MCPError(code=INVALID_PARAMS, message=explain(exc), data=data)
    if isinstance(exc, StoreError):
        return MCPError(code=INTERNAL_ERROR, message=f"template store unavailable: {exc.message}", data=data)
    return MCPError(code=INTERNAL_ERROR, message=explain(exc), data=data)


def tool_error(message: str, *, code: str) -> types.CallToolResult:
    """A tool result a model can read and act on (``isError: true``), with its stable ``code`` in ``_meta``."""
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=message)], is_error=True, meta={ERROR_CODE_KEY: code}
    )


def tool_failure(tool: str, exc: PbaError) -> types.CallToolResult:
    """The ``isError`` result of a tool whose service call raised ``exc``."""
    return tool_error(f"{tool} failed: {explain(exc)}", code=exc.code)
