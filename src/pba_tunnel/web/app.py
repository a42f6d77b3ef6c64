"""The web page's ASGI app: routes, static files, and the guard every request passes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from mcp.server.transport_security import RequestBodyLimitMiddleware, TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from . import editing, enhancing, history, labelling, library, signing_in, template_page, usage
from .context import CsrfRefused, WebContext
from .security import Charge, WebGuard
from .viewers import Access, ApiTokens

if TYPE_CHECKING:
    from ..service import TemplateService

STATIC = Path(__file__).parent / "static"
MAX_FORM_BYTES = 4 * 1024 * 1024  # a form holds at most a template source (max_source_bytes) and its arguments


async def _csrf_refused(_request: Request, _exc: Exception) -> Response:
    return PlainTextResponse(
        "This form has no valid security token: reload the page and send it again.", status_code=403
    )


def web_app(
    get_service: Callable[[], Awaitable[TemplateService]],
    *,
    security: TransportSecuritySettings | None,
    token: str | None = None,
    access: Access | None = None,
    after_write: Callable[[], Awaitable[None]] | None = None,
    charge: Charge | None = None,
    loopback: bool = True,
) -> ASGIApp:
    """The web page over the service ``get_service`` returns (Host checks as ``security``).

    Sign-in checks tokens through ``access``; by default the API's: ``token`` (PBA_TUNNEL_AUTH_TOKEN) and the store's.
    ``charge`` is the API's rate limiter, which then holds a token's use of the page too. ``loopback`` says
    whether the server is bound to a loopback address (the sign-in page says why it asks for a token).
    """
    name = "/t/{name:str}"
    routes = [
        Route("/", library.library, methods=["GET"]),
        Route("/login", signing_in.login_view, methods=["GET"]),
        Route("/login", signing_in.login, methods=["POST"]),
        Route("/logout", signing_in.logout, methods=["POST"]),
        Route("/new", editing.new_view, methods=["GET"]),
        Route("/new", editing.create, methods=["POST"]),
        Route("/validate", editing.validate, methods=["POST"]),
        Route("/preview", editing.preview_source, methods=["POST"]),
        Route(name, template_page.template_view, methods=["GET"]),
        Route(f"{name}/preview", template_page.template_preview, methods=["POST"]),
        Route(f"{name}/edit", editing.edit_view, methods=["GET"]),
        Route(f"{name}/edit", editing.save, methods=["POST"]),
        Route(f"{name}/delete", editing.delete, methods=["POST"]),
        Route(f"{name}/restore", editing.restore, methods=["POST"]),
        Route(f"{name}/history", history.history_view, methods=["GET"]),
        Route(f"{name}/diff", history.diff_view, methods=["GET"]),
        Route(f"{name}/rollback", history.rollback, methods=["POST"]),
        Route(f"{name}/labels", labelling.set_label, methods=["POST"]),
        Route(f"{name}/labels/remove", labelling.remove_label, methods=["POST"]),
        Route(f"{name}/usage", usage.usage_view, methods=["GET"]),
        Route(f"{name}/enhance", enhancing.enhance_view, methods=["GET"]),
        Route(f"{name}/enhance", enhancing.enhance_run, methods=["POST"]),
        Route(f"{name}/enhance/accept", enhancing.enhance_accept, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={CsrfRefused: _csrf_refused})
    app.state.web = WebContext(get_service, after_write, loopback=loopback)
    return WebGuard(
        RequestBodyLimitMiddleware(app, MAX_FORM_BYTES),
        security=security,
        access=access or ApiTokens(get_service, token),
        charge=charge,
    )
