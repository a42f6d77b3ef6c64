"""The template page: what a template is and asks for, and a form that previews its rendering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from ..errors import LabelNotFoundError, NotFoundError, PbaError
from ..labels import as_version, check_label
from .context import error_page, page, read_form, service_of, view_of
from .forms import argument_fields, copies, submitted_arguments
from .security import viewer_of

if TYPE_CHECKING:
    from ..service import TemplateService
    from ..store import StoredTemplate
    from ..templates.spec import ParsedTemplate

WEB_CLIENT = "web"  # how renders from the page are recorded in usage statistics
USAGE_DAYS = 30  # the template page says how often it was rendered in this many days


async def _version(service: TemplateService, name: str, label: str | None) -> tuple[StoredTemplate, ParsedTemplate]:
    """The current version of ``name``, or the one ``label`` points at."""
    if label is None:
        return await service.current(name)
    found = await service.labelled(name, check_label(label))
    if found is None:
        raise LabelNotFoundError(f"template '{name}' has no label '{label}'", name=name, label=label)
    return found


async def _show(
    request: Request, name: str, note: str | None = None, label: str | None = None, **extra: Any
) -> Response:
    extra["note"] = note
    service = await service_of(request)
    try:
        stored, parsed = await _version(service, name, label)
    except NotFoundError as exc:
        if not exc.deleted or view_of(request) is not None:  # a token fixed to a label never sees a deleted one
            raise
        stored = await service.get(name, include_deleted=True)
        return page(request, "template.html", stored=stored, spec=None, fields=[], deleted=True, labels={}, **extra)
    # The listing fields of the row are the current version's: the version shown speaks for itself.
    stored = as_version(stored, parsed)
    view = view_of(request)
    if view is not None:  # a token fixed to a label learns of no newer version
        stored = stored.model_copy(update={"current_version": stored.version, "updated_at": stored.created_at})
    labels = {
        label_name: v.version
        for v in await service.history(name)
        for label_name in v.labels
        if view is None or label_name == view.label  # a token fixed to a label sees no other label
    }
    since = datetime.now(UTC).date() - timedelta(days=USAGE_DAYS - 1)
    recent = await service.usage(since=since, name=name)
    given = extra.pop("given", None)
    fields = argument_fields(list(parsed.spec.arguments), given)
    return page(
        request,
        "template.html",
        stored=stored,
        spec=parsed.spec,
        fields=fields,
        deleted=False,
        labels=dict(sorted(labels.items())),
        shown_label=label,
        renders=sum(s.renders for s in recent),
        usage_days=USAGE_DAYS,
        **extra,
    )


async def template_view(request: Request) -> Response:
    """``GET /t/{name}``."""
    params = request.query_params
    saved = params.get("saved", "")
    unchanged = params.get("unchanged", "")
    note = None
    if saved.isdigit():
        note = f"Saved as version {saved}."
    elif unchanged.isdigit():
        note = f"Nothing changed: version {unchanged} stays current."
    label = viewer_of(request).label or params.get("label") or None
    try:
        return await _show(request, request.path_params["name"], note=note, label=label)
    except PbaError as exc:
        return error_page(request, exc)


async def template_preview(request: Request) -> Response:
    """``POST /t/{name}/preview``: the rendered messages (a fragment for the page's script, else the page)."""
    name = request.path_params["name"]
    form = await read_form(request)
    fragment = form.get("fragment") == "1"
    label = viewer_of(request).label or str(form.get("label") or "") or None
    try:
        service = await service_of(request)
        stored, parsed = await _version(service, name, label)
        given = submitted_arguments(form, list(parsed.spec.arguments))
        result = await service.render(name, given, version=stored.version, client=WEB_CLIENT)
    except PbaError as exc:
        if fragment:
            return error_page(request, exc, fragment=True)
        try:
            return await _show(request, name, label=label, given=form_values(form), preview_error=exc)
        except PbaError as again:
            return error_page(request, again)
    as_json, as_text = copies(result)
    preview: dict[str, Any] = {"result": result, "copy_json": as_json, "copy_text": as_text}
    if fragment:
        return page(request, "preview.html", **preview)
    return await _show(request, name, label=label, given=form_values(form), **preview)


def form_values(form: dict[str, Any]) -> dict[str, str]:
    """The argument fields as submitted, to fill the form again."""
    return {k.removeprefix("arg-"): v for k, v in form.items() if k.startswith("arg-") and isinstance(v, str)}
