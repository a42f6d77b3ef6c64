"""The MCP tools: their definitions (schemas, annotations) and what each does through the service."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from ..errors import PbaError
from . import tool_models as m
from .errors import tool_error

if TYPE_CHECKING:
    from ..rendering import RenderResult
    from ..service import TemplateService
    from ..store import StoredTemplate, TemplateSummary

ENHANCE_TOOL = "enhance_template"  # answered by server/enhance_tool.py (it needs the request context)
ToolFn = Callable[["TemplateService", Any], Awaitable[BaseModel]]


@dataclass(frozen=True)
class ToolSpec:
    """One tool: wire definition, input model, implementation, and whether it changes templates."""

    name: str
    title: str
    description: str
    input_model: type[m.Input]
    output_model: type[BaseModel]
    run: ToolFn
    read_only: bool
    destructive: bool = False
    idempotent: bool = False

    def definition(self) -> dict[str, Any]:
        """The tool as ``tools/list`` shows it."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputSchema": self.input_model.model_json_schema(),
            "outputSchema": self.output_model.model_json_schema(),
            "annotations": {
                "title": self.title,
                "readOnlyHint": self.read_only,
                "destructiveHint": self.destructive,
                "idempotentHint": self.idempotent,
                "openWorldHint": False,
            },
        }


def _summary(item: TemplateSummary) -> m.TemplateOut:
    return m.TemplateOut(
        name=item.name,
        title=item.title,
        description=item.description,
        category=item.category,
        tags=item.tags,
        version=item.version,
    )


def _detail(item: StoredTemplate) -> m.DetailOut:
    return m.DetailOut(
        **_summary(item).model_dump(),
        current_version=item.current_version,
        arguments=item.arguments,
        source=item.source,
        content_hash=item.content_hash,
        message=item.message,
        origin=item.origin,
    )


async def _render(service: TemplateService, args: m.RenderInput) -> m.RenderOut:
    result = await service.render(args.name, args.arguments, version=args.version, client="mcp")
    return m.RenderOut(
        name=result.name,
        version=result.version or 0,
        text=result.text,
        messages=[m.MessageOut(role=x.role, content=x.content) for x in result.messages],
    )


async def _search(service: TemplateService, args: m.SearchInput) -> m.SearchOut:
    found = await service.search(args.query, category=args.category, tags=args.tags, limit=args.limit)
    return m.SearchOut.model_validate(found.model_dump())


async def _list(service: TemplateService, args: m.ListInput) -> m.ListOut:
    page = await service.list_templates(category=args.category, tag=args.tag, cursor=args.cursor, limit=args.limit)
    return m.ListOut(templates=[_summary(i) for i in page.items], next_cursor=page.next_cursor)


async def _get(service: TemplateService, args: m.GetInput) -> m.DetailOut:
    return _detail(await service.get(args.name, args.version))


async def _create(service: TemplateService, args: m.CreateInput) -> m.WriteOut:
    result = await service.create(
        args.source, name=args.name, category=args.category, origin="mcp", message=args.message
    )
    return m.WriteOut(name=result.name, version=result.version, created=result.created, changed=result.changed)


async def _update(service: TemplateService, args: m.UpdateInput) -> m.WriteOut:
    result = await service.update(
        args.name, args.source, expected_version=args.expected_version, origin="mcp", message=args.message
    )
    return m.WriteOut(name=result.name, version=result.version, created=False, changed=result.changed)


async def _delete(service: TemplateService, args: m.NameInput) -> m.StateOut:
    return m.StateOut(name=args.name, deleted=True, changed=await service.delete(args.name))


async def _restore(service: TemplateService, args: m.NameInput) -> m.StateOut:
    return m.StateOut(name=args.name, deleted=False, changed=await service.restore(args.name))


async def _history(service: TemplateService, args: m.NameInput) -> m.HistoryOut:
    versions = await service.history(args.name)
    return m.HistoryOut(
        name=args.name,
        versions=[
            m.VersionOut(**v.model_dump(exclude={"created_at"}), created_at=v.created_at.isoformat()) for v in versions
        ],
    )


async def _rollback(service: TemplateService, args: m.RollbackInput) -> m.WriteOut:
    result = await service.rollback(args.name, args.version, origin="mcp")
    return m.WriteOut(name=result.name, version=result.version, created=False, changed=result.changed)


async def _diff(service: TemplateService, args: m.DiffInput) -> m.DiffOut:
    text = await service.diff(args.name, args.from_version, args.to_version)
    return m.DiffOut(name=args.name, from_version=args.from_version, to_version=args.to_version, diff=text)


async def _enhance_outside_request(_service: TemplateService, _args: m.EnhanceInput) -> m.EnhanceOut:
    # The SDK dispatch runs enhance_template itself (enhance_tool.py): it needs the request's client.
    raise PbaError("enhance_template needs an MCP request context (it is answered by the server's dispatch)")


TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        ToolSpec(
            "render_template",
            "Render a template",
            "Render a stored prompt template with arguments and return its messages (system, user, assistant) "
            "and their joined text. Use it when your client does not show MCP prompts.",
            m.RenderInput,
            m.RenderOut,
            _render,
            read_only=True,
            idempotent=True,
        ),
        ToolSpec(
            "search_templates",
            "Search templates",
            "Find prompt templates by words in their name, title, description, tags or text; best match first.",
            m.SearchInput,
            m.SearchOut,
            _search,
            read_only=True,
            idempotent=True,
        ),
        ToolSpec(
            "list_templates",
            "List templates",
            "List prompt templates by name, optionally by category or tag, one page at a time.",
            m.ListInput,
            m.ListOut,
            _list,
            read_only=True,
            idempotent=True,
        ),
        ToolSpec(
            "get_template",
            "Get a template",
            "Get a template's source, arguments and metadata (the current version or a given one).",
            m.GetInput,
            m.DetailOut,
            _get,
            read_only=True,
            idempotent=True,
        ),
        ToolSpec(
            "create_template",
            "Create a template",
            "Create a new prompt template from its source (YAML front matter + Jinja2 body). Fails if the name "
            "is taken.",
            m.CreateInput,
            m.WriteOut,
            _create,
            read_only=False,
        ),
        ToolSpec(
            "update_template",
            "Update a template",
            "Store a new version of a template. Earlier versions stay in its history. Pass expected_version to "
            "refuse the write if someone changed the template meanwhile.",
            m.UpdateInput,
            m.WriteOut,
            _update,
            read_only=False,
        ),
        ToolSpec(
            "delete_template",
            "Delete a template",
            "Delete a template (soft: restore_template brings it back with its whole history).",
            m.NameInput,
            m.StateOut,
            _delete,
            read_only=False,
            destructive=True,
            idempotent=True,
        ),
        ToolSpec(
            "restore_template",
            "Restore a template",
            "Bring back a deleted template.",
            m.NameInput,
            m.StateOut,
            _restore,
            read_only=False,
            idempotent=True,
        ),
        ToolSpec(
            "template_history",
            "Template history",
            "List every version of a template, oldest first.",
            m.NameInput,
            m.HistoryOut,
            _history,
            read_only=True,
            idempotent=True,
        ),
        ToolSpec(
            "rollback_template",
            "Roll back a template",
            "Make an earlier version's content current again, as a new version (nothing is lost).",
            m.RollbackInput,
            m.WriteOut,
            _rollback,
            read_only=False,
        ),
        ToolSpec(
            "diff_template",
            "Diff two versions",
            "Show a unified diff between two versions of a template.",
            m.DiffInput,
            m.DiffOut,
            _diff,
            read_only=True,
            idempotent=True,
        ),
        ToolSpec(
            ENHANCE_TOOL,
            "Enhance a template",
            "Improve a prompt template with a language model (clearer, better structured, with examples, or more "
            "concise) and return the improved source and a diff; save=true stores it as a new version. By default "
            "it asks this MCP client's own model through MCP sampling (no API key needed); clients without "
            "sampling pass provider=openai, anthropic or ollama (the server needs OPENAI_API_KEY, "
            "ANTHROPIC_API_KEY or a running Ollama). compare=[...] tries several providers side by side.",
            m.EnhanceInput,
            m.EnhanceOut,
            _enhance_outside_request,
            read_only=False,
        ),
    )
}


def validation_message(tool: str, error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "arguments"
        text = "unknown argument" if item["type"] == "extra_forbidden" else str(item["msg"])
        problems.append(f"{where}: {text}")
    return f"invalid arguments for {tool}: " + "; ".join(problems)


def current_render_call(arguments: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """``(name, values)`` when a render_template call asks for the current version with plain input.

    Anything else (a version, unknown keys, wrong types) is None and takes the validated path.
    """
    name, values = arguments.get("name"), arguments.get("arguments", {})
    if not isinstance(name, str) or not isinstance(values, dict) or set(arguments) - {"name", "arguments"}:
        return None
    return name, values


async def _render_fast(service: TemplateService, arguments: dict[str, Any]) -> dict[str, Any] | None:
    """render_template without pydantic on the way in or out (it is the hot tool); None for unusual input."""
    call = current_render_call(arguments)
    if call is None:
        return None
    name, values = call
    try:
        result = await service.render(name, values, client="mcp")
    except PbaError as exc:
        return tool_error(f"render_template failed: {exc.message}")
    return render_tool_result(result)


def render_tool_result(result: RenderResult) -> dict[str, Any]:
    """render_template's wire result: the joined text for reading, messages with roles as structured content."""
    structured = {
        "name": result.name,
        "version": result.version,
        "text": result.text,
        "messages": [{"role": m.role, "content": m.content} for m in result.messages],
    }
    return {"content": [{"type": "text", "text": result.text}], "structuredContent": structured, "isError": False}


async def call_tool(service: TemplateService, name: str, arguments: dict[str, Any] | None) -> dict[str, Any]:
    """Run a tool and return its wire result; user errors become ``isError`` results that say what to do."""
    if name == "render_template" and arguments is not None:
        fast = await _render_fast(service, arguments)
        if fast is not None:
            return fast
    spec = TOOLS.get(name)
    if spec is None:
        return tool_error(f"unknown tool {name!r}; the tools are: {', '.join(TOOLS)}")
    try:
        parsed = spec.input_model.model_validate(arguments or {})
    except ValidationError as exc:
        return tool_error(validation_message(name, exc))
    try:
        output = await spec.run(service, parsed)
    except PbaError as exc:
        return tool_error(f"{name} failed: {exc.message}")
    structured = output.model_dump(mode="json")
    text = structured["text"] if isinstance(output, m.RenderOut) else json.dumps(structured, ensure_ascii=False)
    return {"content": [{"type": "text", "text": text}], "structuredContent": structured, "isError": False}


READ_ONLY_TOOLS = frozenset(name for name, spec in TOOLS.items() if spec.read_only)
TOOL_DEFINITIONS = [spec.definition() for spec in TOOLS.values()]
