"""History: every version of a template, a side-by-side diff of any two, and rollback."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import InvalidParameterError, PbaError
from .context import author, error_page, page, read_form, service_of, view_of, wrote
from .diffs import changed, side_by_side
from .editing import ORIGIN
from .forms import shown_value, version_number


def _version_parameter(request: Request, parameter: str, newest: int, default: int) -> int:
    """The version the query's ``parameter`` names (``default`` when absent); InvalidParameterError unless it is a
    whole number from 1 to ``newest``."""
    value = request.query_params.get(parameter)
    if value is None:
        return default
    number = version_number(value)
    if number is None or number > newest:
        shown = shown_value(value)
        raise InvalidParameterError(
            f"'{parameter}' must be a version number from 1 to {newest}, not '{shown}'", parameter=parameter
        )
    return number


async def history_view(request: Request) -> Response:
    """``GET /t/{name}/history``: versions newest first, with what made each and a diff picker."""
    name = request.path_params["name"]
    try:
        service = await service_of(request)
        versions = await service.history(name, view=view_of(request))  # refused to a token fixed to a label
        changes = await service.changes(name, view=view_of(request))
        label_names = await service.label_names()
    except PbaError as exc:
        return error_page(request, exc)
    newest_first = list(reversed(versions))
    to_version = newest_first[0].version if newest_first else None
    from_version = newest_first[1].version if len(newest_first) > 1 else to_version
    rolled = request.query_params.get("rolled", "")
    labelled = request.query_params.get("labelled", "")
    note = f"Rolled back: version {rolled} is current." if rolled.isdigit() else None
    if labelled and note is None:
        note = f"Label {labelled} moved."
    return page(
        request,
        "history.html",
        name=name,
        versions=newest_first,
        from_version=from_version,
        to_version=to_version,
        note=note,
        changes=list(reversed(changes)),
        label_names=label_names,
    )


async def diff_view(request: Request) -> Response:
    """``GET /t/{name}/diff?from=A&to=B``: the two versions side by side."""
    name = request.path_params["name"]
    try:
        service = await service_of(request)
        versions = await service.history(name, view=view_of(request))  # refused to a token fixed to a label
        latest = versions[-1].version if versions else 1
        old_version = _version_parameter(request, "from", latest, max(latest - 1, 1))
        new_version = _version_parameter(request, "to", latest, latest)
        old = await service.get(name, old_version, include_deleted=True)
        new = await service.get(name, new_version, include_deleted=True)
    except PbaError as exc:
        return error_page(request, exc)
    rows = side_by_side(old.source, new.source)
    return page(
        request,
        "diff.html",
        name=name,
        versions=list(reversed(versions)),
        from_version=old_version,
        to_version=new_version,
        diff_rows=rows,
        diff_changed=changed(rows),
        old_label=f"Version {old_version}",
        new_label=f"Version {new_version}",
        diff_caption=f"Version {old_version} beside version {new_version}",
        same_text=f"Versions {old_version} and {new_version} have the same source.",
    )


async def rollback(request: Request) -> Response:
    """``POST /t/{name}/rollback``: make an earlier version current again, as a new version."""
    name = request.path_params["name"]
    form = await read_form(request)
    version = version_number(form.get("version"))
    if version is None:
        return RedirectResponse(f"/t/{name}/history", status_code=303)
    try:
        result = await (await service_of(request)).rollback(name, version, origin=ORIGIN, author=author(request))
    except PbaError as exc:
        return error_page(request, exc)
    await wrote(request)
    return RedirectResponse(f"/t/{name}/history?rolled={result.version}", status_code=303)
