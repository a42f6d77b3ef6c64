"""Labels on the history page: point a label at a version, or remove it (no version is made either way)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import PbaError
from .context import author, error_page, read_form, service_of, wrote
from .forms import version_number
from .security import viewer_of


async def set_label(request: Request) -> Response:
    """``POST /t/{name}/labels``: point ``label`` at ``version`` (moving it if it pointed elsewhere)."""
    name = request.path_params["name"]
    form = await read_form(request)
    label = str(form.get("label", "")).strip().lower()
    try:
        moved = await (await service_of(request)).set_label(
            name,
            label,
            version=version_number(form.get("version")),
            author=author(request),
            can_admin=viewer_of(request).can_admin,
        )
    except PbaError as exc:
        return error_page(request, exc)
    await wrote(request)
    return RedirectResponse(f"/t/{name}/history?labelled={moved.label}", status_code=303)


async def remove_label(request: Request) -> Response:
    """``POST /t/{name}/labels/remove``: take ``label`` off the template."""
    name = request.path_params["name"]
    form = await read_form(request)
    try:
        await (await service_of(request)).remove_label(
            name, str(form.get("label", "")), author=author(request), can_admin=viewer_of(request).can_admin
        )
    except PbaError as exc:
        return error_page(request, exc)
    await wrote(request)
    return RedirectResponse(f"/t/{name}/history", status_code=303)
