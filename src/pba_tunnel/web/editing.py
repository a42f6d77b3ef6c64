"""Editing: the source editor, validation as you type, a live preview, save without losing anyone's work."""

from __future__ import annotations

import json
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from ..errors import ArgumentError, ConflictError, InvalidTemplateError, PbaError, VersionNotShownError
from ..templates.spec import ParsedTemplate
from .context import author, error_page, page, read_form, service_of, view_of, wrote
from .diffs import changed, side_by_side
from .errors import describe
from .forms import copies, sample_arguments, shown_value, version_number

if TYPE_CHECKING:
    from ..service import TemplateService

SAMPLE_HINT = '{"topic": "x"}'
ORIGIN = "web"  # how versions saved from the page are marked in history
NEW_SOURCE = """---
name: my-template
title: My template
description: What this template is for.
tags: []
arguments:
  - name: topic
    description: What to write about
---
system:
You are a helpful assistant.

user:
Write about {{ topic }}.
"""


async def _parse(request: Request, source: str, name: str | None) -> ParsedTemplate:
    service = await service_of(request)
    return await anyio.to_thread.run_sync(partial(service.parse, source, default_name=name))


def _problem(exc: PbaError) -> dict[str, Any]:
    line = exc.line if isinstance(exc, InvalidTemplateError) else None
    field = exc.field if isinstance(exc, InvalidTemplateError) else None
    reason = exc.reason if isinstance(exc, InvalidTemplateError) else describe(exc)
    return {"line": line, "field": field, "message": reason, "code": exc.code}


async def edit_view(request: Request) -> Response:
    """``GET /t/{name}/edit``: the current source in the editor (to a token fixed to a label, only when its label
    is on the current version: a save follows the current version)."""
    name = request.path_params["name"]
    try:
        service = await service_of(request)
        await service.newest_shown(name, view_of(request))
        stored = await service.get(name)
    except PbaError as exc:
        return error_page(request, exc)
    return page(request, "edit.html", name=stored.name, source=stored.source, expected_version=stored.version)


async def new_view(request: Request) -> Response:
    """``GET /new``: a starting source for a new template."""
    return page(request, "edit.html", name=None, source=NEW_SOURCE, expected_version=None)


async def validate(request: Request) -> Response:
    """``POST /validate``: the first problem with its line, warnings, and sample arguments (JSON for the editor)."""
    form = await read_form(request)
    try:
        parsed = await _parse(request, str(form.get("source", "")), form.get("name") or None)
    except PbaError as exc:
        return JSONResponse({"ok": False, "problems": [_problem(exc)], "warnings": [], "sample": None})
    # YAML defaults may be dates or other values JSON lacks: they are offered as their text.
    sample = json.loads(json.dumps(sample_arguments(list(parsed.spec.arguments)), default=str))
    return JSONResponse({"ok": True, "problems": [], "warnings": list(parsed.warnings), "sample": sample})


async def preview_source(request: Request) -> Response:
    """``POST /preview``: an unsaved source rendered with the sample arguments (a fragment)."""
    form = await read_form(request)
    try:
        parsed = await _parse(request, str(form.get("source", "")), form.get("name") or None)
        try:
            given = json.loads(str(form.get("sample") or "{}"))
        except ValueError:
            raise ArgumentError(
                'the sample arguments are not valid JSON: write an object such as {"topic": "x"}'
            ) from None
        if not isinstance(given, dict):
            raise ArgumentError('the sample arguments must be a JSON object such as {"topic": "x"}')
        service = await service_of(request)
        result = await anyio.to_thread.run_sync(partial(service.renderer.render, parsed, given))
    except PbaError as exc:
        return error_page(request, exc, fragment=True)
    as_json, as_text = copies(result)
    return page(request, "preview.html", result=result, copy_json=as_json, copy_text=as_text)


async def save(request: Request) -> Response:
    """``POST /t/{name}/edit``: a new version, unless someone saved since this editor opened (then a diff), or the
    form does not say which version it edited (then a diff too: nothing is saved blindly)."""
    name = request.path_params["name"]
    form = await read_form(request)
    source = str(form.get("source", ""))
    sent = form.get("expected_version")
    expected = version_number(sent)
    service = await service_of(request)
    if expected is None:
        shown = shown_value(sent)
        reason = f"expected_version '{shown}' is not a version number" if shown else "the form sent no expected_version"
        return await _not_saved(request, service, name, source, 400, unknown_base=reason)
    try:
        result = await service.update(
            name,
            source,
            expected_version=expected,
            origin=ORIGIN,
            author=author(request),
            message="edited on the web page",
        )
    except ConflictError as exc:
        return await _not_saved(request, service, name, source, 409, conflict_from=expected, conflict=exc)
    except InvalidTemplateError as exc:
        return page(
            request, "edit.html", status=422, name=name, source=source, expected_version=expected, problem=_problem(exc)
        )
    except PbaError as exc:
        return error_page(request, exc)
    await wrote(request)
    outcome = "saved" if result.changed else "unchanged"
    return RedirectResponse(f"/t/{name}?{outcome}={result.version}", status_code=303)


async def _not_saved(
    request: Request, service: TemplateService, name: str, source: str, status: int, **why: Any
) -> Response:
    """The editor again with the unsaved text beside the current version, whose number the next save then follows."""
    try:
        await service.newest_shown(name, view_of(request))
        current = await service.get(name)
    except VersionNotShownError as exc:  # the current version is not this token's to see: keep the text only
        return page(
            request, "edit.html", status=status, name=name, source=source, expected_version=None, problem=_problem(exc)
        )
    except PbaError as again:
        return error_page(request, again)
    rows = side_by_side(current.source, source)
    why.setdefault("conflict", None)
    why.setdefault("conflict_from", None)
    return page(
        request,
        "edit.html",
        status=status,
        name=name,
        source=source,
        expected_version=current.version,
        conflict_version=current.version,
        diff_rows=rows,
        diff_changed=changed(rows),
        old_label=f"Saved: version {current.version}",
        new_label="Yours (not saved)",
        diff_caption=f"Version {current.version} beside your unsaved text",
        **why,
    )


async def create(request: Request) -> Response:
    """``POST /new``: create a template from the editor's source."""
    form = await read_form(request)
    source = str(form.get("source", ""))
    try:
        result = await (await service_of(request)).create(
            source, origin=ORIGIN, author=author(request), message="created on the web page"
        )
    except (InvalidTemplateError, ConflictError) as exc:
        return page(
            request, "edit.html", status=422, name=None, source=source, expected_version=None, problem=_problem(exc)
        )
    except PbaError as exc:
        return error_page(request, exc)
    await wrote(request)
    return RedirectResponse(f"/t/{result.name}?saved={result.version}", status_code=303)


async def delete(request: Request) -> Response:
    """``POST /t/{name}/delete``: a soft delete (the template page then offers to restore it)."""
    return await _set_deleted(request, True)


async def restore(request: Request) -> Response:
    """``POST /t/{name}/restore``: undo a delete."""
    return await _set_deleted(request, False)


async def _set_deleted(request: Request, deleted: bool) -> Response:
    name = request.path_params["name"]
    await read_form(request)
    try:
        service = await service_of(request)
        who = author(request)
        await (service.delete(name, author=who) if deleted else service.restore(name, author=who))
    except PbaError as exc:
        return error_page(request, exc)
    await wrote(request)
    return RedirectResponse(f"/t/{name}", status_code=303)
