"""``/mcp/LABEL``: the same MCP endpoint as ``/mcp``, for a client that sees one label's versions.

The SDK serves one path. This ASGI layer sends ``/mcp/LABEL`` there and notes the label in the request's scope
state (Starlette's ``request.state``), where the handlers read it (``caller.request_label``); a label that is not a
valid name gets 404.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ..labels import LABEL_PATTERN, LATEST
from .caller import REQUEST_LABEL


class LabelPaths:
    """Routes ``{path}/LABEL`` to ``path`` with the label noted for the handlers."""

    def __init__(self, app: ASGIApp, path: str = "/mcp") -> None:
        self.app = app
        self.prefix = path + "/"
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        label = scope["path"][len(self.prefix) :]
        if not LABEL_PATTERN.match(label):
            response = JSONResponse(
                {"error": "not_found", "message": f"use {self.path} or {self.prefix}LABEL with a label name"},
                status_code=404,
            )
            await response(scope, receive, send)
            return
        state = dict(scope.get("state") or {})
        if label != LATEST:
            state[REQUEST_LABEL] = label
        await self.app({**scope, "path": self.path, "raw_path": self.path.encode(), "state": state}, receive, send)
