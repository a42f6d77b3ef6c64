"""Enhance: a model proposes a better template, shown as a diff; accepting saves it as a new version."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import ConflictError, EnhanceRequestError, InvalidParameterError, PbaError
from .context import author, error_page, page, read_form, service_of, view_of, wrote
from .diffs import changed, side_by_side
from .forms import shown_value, version_number

UNREACHABLE_PROVIDERS = {"sampling"}  # asks the MCP client's model: there is no MCP client behind the page
GOALS = ["clarity", "structure", "examples", "concise", "custom"]


def providers() -> list[str]:
    """Providers the page can use (every registered one that needs no MCP client)."""
    from ..providers.registry import provider_names

    return [name for name in provider_names() if name not in UNREACHABLE_PROVIDERS]


def default_provider() -> str:
    """``openai`` when it is configured through the environment, else a local ``ollama``."""
    from ..providers.settings import provider_environment

    environment = provider_environment()
    return "openai" if environment.openai_api_key or environment.openai_base_url else "ollama"


def _form_context(name: str, form: dict[str, Any] | None = None) -> dict[str, Any]:
    form = form or {}
    return {
        "name": name,
        "goals": GOALS,
        "providers": providers(),
        "goal": form.get("goal", "clarity"),
        "provider": form.get("provider") or default_provider(),
        "model": form.get("model", ""),
        "instruction": form.get("instruction", ""),
    }


async def enhance_view(request: Request) -> Response:
    """``GET /t/{name}/enhance``: choose a goal and a provider."""
    name = request.path_params["name"]
    try:
        service = await service_of(request)
        await service.newest_shown(name, view_of(request))  # enhancing reads and follows the current version
        await service.get(name)
    except PbaError as exc:
        return error_page(request, exc)
    return page(request, "enhance.html", **_form_context(name))


async def enhance_run(request: Request) -> Response:
    """``POST /t/{name}/enhance``: ask the model; the proposal is shown as a diff, nothing is saved yet."""
    from ..enhance import EnhanceRequest, enhance
    from ..providers import get_provider
    from ..providers.settings import provider_config

    name = request.path_params["name"]
    form = await read_form(request)
    context = _form_context(name, form)
    provider_name = str(context["provider"])
    try:
        if provider_name not in context["providers"]:
            raise EnhanceRequestError(f"pick one of the providers listed, not {provider_name!r}")
        try:
            wish = EnhanceRequest(name=name, goal=context["goal"], instruction=context["instruction"] or None)
        except ValidationError:
            raise EnhanceRequestError(f"pick one of the goals listed, not {context['goal']!r}") from None
        service = await service_of(request)
        await service.newest_shown(name, view_of(request))
        stored = await service.get(name)
        provider = get_provider(provider_name, provider_config(provider_name))
        try:
            result = await enhance(service, provider, wish, model=str(context["model"]).strip() or None)
        finally:
            await provider.aclose()
    except PbaError as exc:
        return page(request, "enhance.html", status=400, problem=exc, **context)
    rows = side_by_side(stored.source, result.source)
    return page(
        request,
        "enhance.html",
        result=result,
        base_version=stored.version,
        diff_rows=rows,
        diff_changed=changed(rows),
        old_label=f"Version {stored.version}",
        new_label=f"Proposed by {result.provider}/{result.model}",
        diff_caption="The current version beside the proposal",
        same_text="The model proposed no change.",
        **context,
    )


async def enhance_accept(request: Request) -> Response:
    """``POST /t/{name}/enhance/accept``: store the proposal as a new version (unless someone saved meanwhile)."""
    name = request.path_params["name"]
    form = await read_form(request)
    sent = str(form.get("expected_version", ""))
    expected = version_number(sent)
    if expected is None:  # never saved over a version nobody saw
        refused = InvalidParameterError(
            f"expected_version '{shown_value(sent)}' is not a version number: run the enhancement again",
            parameter="expected_version",
        )
        return error_page(request, refused)
    try:
        result = await (await service_of(request)).update(
            name,
            str(form.get("source", "")),
            expected_version=expected,
            origin="enhance",
            author=author(request),
            message=str(form.get("message", "enhanced on the web page"))[:200],
        )
    except ConflictError as exc:
        return error_page(request, exc)
    except PbaError as exc:
        return error_page(request, exc)
    await wrote(request)
    return RedirectResponse(f"/t/{name}?saved={result.version}", status_code=303)
