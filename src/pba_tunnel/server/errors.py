"""How core errors reach MCP clients: JSON-RPC errors for protocol requests, ``isError`` tool results."""

from __future__ import annotations

from typing import Any

from mcp import MCPError

from ..errors import ArgumentError, ArgumentTooLargeError, NotFoundError, PbaError, StoreError

INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
RESOURCE_NOT_FOUND = -32002


def protocol_error(exc: PbaError) -> MCPError:
    """The JSON-RPC error for a failed prompt or resource request (-32602 for what the caller got wrong)."""
    if isinstance(exc, NotFoundError | ArgumentError | ArgumentTooLargeError):
        return MCPError(code=INVALID_PARAMS, message=exc.message, data={"reason": exc.code})
    if isinstance(exc, StoreError):
        return MCPError(
            code=INTERNAL_ERROR, message=f"template store unavailable: {exc.message}", data={"reason": exc.code}
        )
    return MCPError(code=INTERNAL_ERROR, message=exc.message, data={"reason": exc.code})


def tool_error(message: str) -> dict[str, Any]:
    """A tool result a model can read and act on (``isError: true``)."""
    return {"content": [{"type": "text", "text": message}], "isError": True}


def error_response(request_id: Any, error: MCPError) -> dict[str, Any]:
    """A JSON-RPC error response (used by the stdio fast path)."""
    body: dict[str, Any] = {"code": error.error.code, "message": error.error.message}
    if error.error.data is not None:
        body["data"] = error.error.data
    return {"jsonrpc": "2.0", "id": request_id, "error": body}
