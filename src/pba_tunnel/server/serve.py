"""Start the service and serve it over the chosen transport until the client goes away."""

from __future__ import annotations

import importlib
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import structlog

from ..collector import collect_less_often, starting_up
from ..config import Settings
from ..errors import ConfigError
from ..labels import LabelView
from ..logging import configure_logging
from .app import McpApp
from .caller import CallerDefaults
from .slot import RETRY_SECONDS, ServiceSlot
from .stdio import StdioChoice

if TYPE_CHECKING:
    from ..service import TemplateService

log = structlog.get_logger(__name__)


def check_workers(workers: int, *, transport: str, stateless: bool) -> None:
    """Refuse several worker processes where a client's requests must all reach one process."""
    if workers > 1 and (transport != "http" or not stateless):
        raise ConfigError(
            f"--workers {workers} needs --transport http --stateless: a session lives in the one process that "
            "created it, and with several workers a client's next request may reach another process that does "
            "not know it; pass --stateless (or --workers 1)"
        )


async def serve_forever(
    settings: Settings,
    *,
    transport: str,
    host: str,
    port: int,
    stateless: bool,
    token: str | None,
    watch: Sequence[Path] = (),
    stdio_transport: StdioChoice = "auto",
    label: str | None = None,
    fallback_latest: bool = False,
) -> None:
    """Open the store (creating and seeding it on first start), then serve MCP (``label``: the one clients see)."""
    configure_logging(settings.log_level or "info", settings.log_format)
    LabelView.of(label)  # a bad label is refused before anything starts
    callers = CallerDefaults(
        transport="stdio" if transport == "stdio" else "http",
        label=label,
        fallback_latest=fallback_latest,
        can_admin=transport == "stdio" or bool(token),  # over HTTP, only with the server's token (for now)
    )
    sockets: list[socket.socket] = []
    if transport != "stdio":
        from .http import check_exposure
        from .listening import bound_port, listen

        check_exposure(host, token)  # before the store is touched: a refused start changes nothing
        sockets = listen(host, port)  # the port is ours from here on: a port in use is refused as early
        port = bound_port(sockets, port)

    async def open_service() -> TemplateService:
        # Importing the store (SQLAlchemy, Jinja) takes a few hundred ms: in a worker thread, so the event loop
        # can still write the answer to initialize that came just before.
        with starting_up():
            await anyio.to_thread.run_sync(importlib.import_module, "pba_tunnel.startup")
            from ..startup import open_service as open_seeded

            return await open_seeded(settings)

    app = McpApp(
        ServiceSlot(open_service),
        stateless=stateless and transport == "http",
        page_size=settings.page_size,
        callers=callers,
    )
    collect_less_often()  # every transport: at the default, a page of 100 prompts leaves ~2 young collections
    try:
        async with anyio.create_task_group() as watchers:
            for folder in watch:
                watchers.start_soon(_watch_folder, app.slot, folder)
            if transport == "stdio":
                from .stdio import serve_stdio

                log.info("serving MCP on stdio", store=settings.database_url.split("@")[-1])
                await serve_stdio(app, stdio_transport)  # opens the store once the handshake is answered
            else:
                from .http import serve_http
                from .rate_limit import RateLimiter
                from .run_options import answers_for

                await app.slot.open()
                path = "/sse" if transport == "sse" else "/mcp"
                log.info("serving MCP over HTTP", url=f"http://{host}:{port}{path}", stateless=stateless)
                await serve_http(
                    app,
                    transport=transport,
                    host=host,
                    port=port,
                    stateless=stateless,
                    token=token,
                    sessions_per_client=settings.http_sessions_per_client,
                    rate_limiter=RateLimiter.from_settings(settings),
                    answers=answers_for(settings.http_responses, stateless=stateless),
                    header_seconds=settings.http_header_timeout_seconds,
                    sockets=sockets,
                )
            watchers.cancel_scope.cancel()
    finally:
        for listening in sockets:
            listening.close()  # uvicorn closes them when it stops; not when the store failed before it started
        await app.slot.close()


async def _watch_folder(slot: ServiceSlot, folder: Path) -> None:
    from ..errors import PbaError
    from ..watch import FolderWatcher

    while True:
        try:
            service = await slot.get()  # on stdio the store opens once the handshake is answered
            break
        except PbaError:
            await anyio.sleep(RETRY_SECONDS)  # the store is unavailable; every request says so meanwhile
    await FolderWatcher(service, folder).run()
