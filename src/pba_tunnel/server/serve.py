"""Start the service and serve it over the chosen transport until the client goes away."""

from __future__ import annotations

import structlog

from ..config import Settings
from ..logging import configure_logging
from ..service import TemplateService
from .app import McpApp

log = structlog.get_logger(__name__)


async def serve_forever(
    settings: Settings, *, transport: str, host: str, port: int, stateless: bool, token: str | None
) -> None:
    """Open the store (creating and seeding it on first start), then serve MCP."""
    import os

    configure_logging(os.environ.get("PBA_TUNNEL_LOG_LEVEL", "info"), os.environ.get("PBA_TUNNEL_LOG_FORMAT"))
    if transport != "stdio":
        from .http import check_exposure

        check_exposure(host, token)  # before the store is touched: a refused start changes nothing
    service = await TemplateService.open(settings)
    app = McpApp(service)
    try:
        if transport == "stdio":
            from .stdio import serve_stdio

            log.info("serving MCP on stdio", store=settings.database_url.split("@")[-1])
            await serve_stdio(app)
        else:
            from .http import serve_http

            path = "/sse" if transport == "sse" else "/mcp"
            log.info("serving MCP over HTTP", url=f"http://{host}:{port}{path}", stateless=stateless)
            await serve_http(app, transport=transport, host=host, port=port, stateless=stateless, token=token)
    finally:
        await service.close()
