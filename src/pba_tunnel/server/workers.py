"""``serve --transport http --stateless --workers N``: N processes on one port, through uvicorn's supervisor.

uvicorn starts each worker as a fresh process that imports :func:`create_app` by name, so the parent passes its
settings through the environment (``config.export_worker_options``). The parent migrates and seeds the store once
before any worker starts; each worker then opens its own service, listens for changes (PostgreSQL) and serves.
Only stateless HTTP can be spread over processes: a session lives in the process that created it.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import anyio
import structlog
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from ..collector import collect_less_often
from ..config import Settings, export_worker_options, worker_options
from ..labels import LabelView
from ..logging import configure_logging
from .app import McpApp
from .caller import CallerDefaults
from .http import check_exposure, http_asgi, uvicorn_options
from .listening import check_port_free
from .rate_limit import RateLimiter
from .request_deadline import HeaderDeadline
from .run_options import answers_for
from .slot import ServiceSlot

if TYPE_CHECKING:
    from ..service import TemplateService

log = structlog.get_logger(__name__)
APP_FACTORY = "pba_tunnel.server.workers:create_app"


class ServiceLifespan:
    """Opens the service and runs the change watcher for as long as uvicorn runs the app's lifespan."""

    def __init__(self, app: ASGIApp, mcp: McpApp) -> None:
        self.app = app
        self.mcp = mcp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        await self.mcp.slot.open()  # a store that cannot be opened is reported to requests, and retried
        try:
            async with self.mcp.notifier.watching():
                await self.app(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await self.mcp.slot.close()


@cache
def header_seconds() -> float:
    """In a worker process: the header deadline of the settings its parent exported (read once)."""
    settings, _options = worker_options()
    return settings.http_header_timeout_seconds


class WorkerProtocol(HeaderDeadline):
    """A worker's HTTP protocol: uvicorn's own with the header deadline. uvicorn hands its config to the worker
    processes by pickling, so the class is found by name and reads its deadline in the worker."""

    def __init__(self, **uvicorn_options: Any) -> None:
        super().__init__(header_seconds(), AutoHTTPProtocol, **uvicorn_options)


def create_app() -> ASGIApp:
    """The app of one worker process, from the settings its parent exported (uvicorn calls this by name)."""
    settings, options = worker_options()
    configure_logging(settings.log_level or "info", settings.log_format)

    async def open_service() -> TemplateService:
        from ..startup import open_service as open_seeded

        return await open_seeded(settings)

    callers = CallerDefaults(
        transport="http",
        label=options.get("label"),
        fallback_latest=bool(options.get("fallback_latest")),
        can_admin=bool(options["token"]),
    )
    mcp = McpApp(ServiceSlot(open_service), stateless=True, page_size=settings.page_size, callers=callers)
    limiter = RateLimiter.from_settings(settings, processes=int(options.get("workers", 1)))
    asgi = http_asgi(
        mcp,
        transport="http",
        host=options["host"],
        stateless=True,
        token=options["token"],
        rate_limiter=limiter,
        answers=answers_for(settings.http_responses, stateless=True),
    )
    collect_less_often()
    return ServiceLifespan(asgi, mcp)


def serve_workers(
    settings: Settings,
    *,
    host: str,
    port: int,
    token: str | None,
    workers: int,
    label: str | None = None,
    fallback_latest: bool = False,
) -> None:
    """Prepare the store once, then serve stateless HTTP from ``workers`` processes until interrupted."""
    configure_logging(settings.log_level or "info", settings.log_format)
    check_exposure(host, token)
    LabelView.of(label)  # a bad label is refused before anything starts
    # uvicorn's supervisor binds the port itself (no documented way to hand it ours): a port in use is told now,
    # and should another process take it in the moment between, uvicorn says so in one line and exits 3.
    check_port_free(host, port)

    async def prepare() -> None:
        from ..startup import open_service as open_seeded

        service = await open_seeded(settings)  # migrations and seeding happen once, not in every worker
        await service.close()

    anyio.run(prepare)
    export_worker_options(
        settings, host=host, token=token, label=label, fallback_latest=fallback_latest, workers=workers
    )
    log.info("serving MCP over HTTP", url=f"http://{host}:{port}/mcp", stateless=True, workers=workers)
    uvicorn.run(APP_FACTORY, factory=True, workers=workers, **uvicorn_options(host, port, WorkerProtocol))
