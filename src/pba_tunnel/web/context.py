"""What every page handler shares: the service, the HTML environment, forms with their CSRF check."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..errors import PbaError
from ..labels import LabelView
from .errors import describe, status_of
from .security import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, csrf_token, csrf_valid, viewer_of

if TYPE_CHECKING:
    from ..service import TemplateService

# Page markup only: autoescaping on, and no relation to the template sandbox (template text is data here).
ENVIRONMENT = Environment(
    loader=PackageLoader("pba_tunnel.web", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass
class WebContext:
    """How pages reach the service, and whom to tell after a write (MCP clients hear of changes)."""

    get_service: Callable[[], Awaitable[TemplateService]]
    after_write: Callable[[], Awaitable[None]] | None = None
    loopback: bool = True  # bound to a loopback address only: reachable from this machine alone


class CsrfRefused(Exception):
    """A write arrived without this browser's CSRF token."""


def author(request: Request) -> str:
    """The name recorded as the author of what this request changes."""
    return viewer_of(request).name


def view_of(request: Request) -> LabelView | None:
    """What the signed-in token sees: one label's version of each template (its fixed label), or every version."""
    return LabelView.of(viewer_of(request).label)


def web(request: Request) -> WebContext:
    """The context this app was built with."""
    context: WebContext = request.app.state.web
    return context


async def service_of(request: Request) -> TemplateService:
    """The service (waiting for the store to open)."""
    return await web(request).get_service()


async def wrote(request: Request) -> None:
    """Tell MCP clients now that templates changed (their watcher would notice later otherwise)."""
    after = web(request).after_write
    if after is not None:
        with suppress(Exception):  # the write is done; the watcher's next poll tells clients instead
            await after()


def page(request: Request, template: str, /, *, status: int = 200, **context: Any) -> HTMLResponse:
    """An HTML page (or fragment) rendered from ``templates/<template>``."""
    html = ENVIRONMENT.get_template(template).render(
        csrf=csrf_token(request),
        csrf_field=CSRF_FIELD,
        viewer=viewer_of(request),
        sign_out=request.cookies.get(SESSION_COOKIE) is not None,
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, error: PbaError, *, fragment: bool = False) -> HTMLResponse:
    """An error worded for a person, with the status a browser understands."""
    template = "error_fragment.html" if fragment else "error.html"
    return page(request, template, status=status_of(error), error=error, message=describe(error))


async def read_form(request: Request) -> dict[str, Any]:
    """The submitted form, refused (CsrfRefused) unless it carries this browser's CSRF token."""
    form = await request.form()
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    if not csrf_valid(request, sent if isinstance(sent, str) else None):
        raise CsrfRefused
    values: dict[str, Any] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            values[key] = value  # the last value wins (a checkbox after its hidden "false")
    return values
