"""The MCP tools: their definitions (schemas, annotations) and what each does through the service."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

import mcp.types as types
from pydantic import BaseModel, ValidationError

from ..errors import ArgumentError, PbaError
from . import tool_models as m
from .errors import UNKNOWN_TOOL, tool_error, tool_failure

if TYPE_CHECKING:
    from ..service import TemplateService
    from .caller import Caller

ENHANCE_TOOL = "enhance_template"  # answered by server/enhance_tool.py (it needs the request context)
ToolFn = Callable[["TemplateService", Any, "Caller"], Awaitable[BaseModel]]  # (service, input, caller)


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

    def definition(self) -> types.Tool:
        """The tool as ``tools/list`` shows it."""
        return types.Tool(
            name=self.name,
            title=self.title,
            description=self.description,
            input_schema=self.input_model.model_json_schema(),
            output_schema=self.output_model.model_json_schema(mode="serialization"),
            annotations=types.ToolAnnotations(
                title=self.title,
                read_only_hint=self.read_only,
                destructive_hint=self.destructive,
                idempotent_hint=self.idempotent,
                open_world_hint=False,
            ),
        )


async def _render(service: TemplateService, args: m.RenderInput, caller: Caller) -> m.RenderOut:
    result = await service.render(
        args.name, args.arguments, version=args.version, client=caller.client, view=caller.view
    )
    return m.RenderOut(name=result.name, version=result.version or 0, text=result.text, messages=result.messages)


async def _search(service: TemplateService, args: m.SearchInput, caller: Caller) -> m.SearchOut:
    return await service.search(args.query, category=args.category, tags=args.tags, limit=args.limit, view=caller.view)


async def _list(service: TemplateService, args: m.ListInput, caller: Caller) -> m.ListOut:
    page = await service.list_templates(
        category=args.category, tag=args.tag, cursor=args.cursor, limit=args.limit, view=caller.view
    )
    return m.ListOut(templates=page.items, next_cursor=page.next_cursor)


async def _get(service: TemplateService, args: m.GetInput, caller: Caller) -> m.DetailOut:
    return await service.get(args.name, args.version, view=caller.view)


async def _create(service: TemplateService, args: m.CreateInput, caller: Caller) -> m.WriteOut:
    return await service.create(
        args.source, name=args.name, category=args.category, origin="mcp", author=caller.author, message=args.message
    )


async def _update(service: TemplateService, args: m.UpdateInput, caller: Caller) -> m.WriteOut:
    return await service.update(
        args.name,
        args.source,
        expected_version=args.expected_version,
        origin="mcp",
        author=caller.author,
        message=args.message,
    )


async def _delete(service: TemplateService, args: m.NameInput, caller: Caller) -> m.StateOut:
    return m.StateOut(name=args.name, deleted=True, changed=await service.delete(args.name, author=caller.author))


async def _restore(service: TemplateService, args: m.NameInput, caller: Caller) -> m.StateOut:
    return m.StateOut(name=args.name, deleted=False, changed=await service.restore(args.name, author=caller.author))


async def _history(service: TemplateService, args: m.NameInput, caller: Caller) -> m.HistoryOut:
    versions = await service.history(args.name, view=caller.view)  # refused to a client that sees one label
    labels = {label: v.version for v in versions for label in v.labels}
    changes = await service.changes(args.name, view=caller.view)
    return m.HistoryOut(name=args.name, versions=versions, labels=labels, changes=changes)


async def _rollback(service: TemplateService, args: m.RollbackInput, caller: Caller) -> m.WriteOut:
    return await service.rollback(args.name, args.version, origin="mcp", author=caller.author)


async def _set_label(service: TemplateService, args: m.SetLabelInput, caller: Caller) -> m.LabelOut:
    move = await service.set_label(
        args.name,
        args.label,
        version=args.version,
        expected_version=args.expected_version,
        author=caller.author,
        can_admin=caller.can_admin,
    )
    return m.LabelOut(**move.__dict__, changed=move.changed)


async def _remove_label(service: TemplateService, args: m.RemoveLabelInput, caller: Caller) -> m.LabelOut:
    move = await service.remove_label(
        args.name, args.label, expected_version=args.expected_version, author=caller.author, can_admin=caller.can_admin
    )
    return m.LabelOut(**move.__dict__, changed=move.changed)


async def _stats(service: TemplateService, args: m.StatsInput, caller: Caller) -> m.StatsOut:
    since = (datetime.now(UTC) - timedelta(days=args.since_days - 1)).date()
    view = caller.view
    if args.name is not None and view is not None:
        await service.viewed(args.name, view)  # a template the view hides has no usage to show
    stats = await service.usage(since=since, name=args.name, by=args.by, view=view)
    unused = (
        [] if args.name else [m.UnusedOut(name=n, last_used=t) for n, t in await service.unused(since=since, view=view)]
    )
    return m.StatsOut(since=since, by=args.by, stats=stats, unused=unused)


async def _diff(service: TemplateService, args: m.DiffInput, caller: Caller) -> m.DiffOut:
    text = await service.diff(args.name, args.from_version, args.to_version, view=caller.view)
    return m.DiffOut(name=args.name, from_version=args.from_version, to_version=args.to_version, diff=text)


async def _enhance_outside_request(_service: TemplateService, _args: m.EnhanceInput, _caller: Caller) -> m.EnhanceOut:
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
            "set_label",
            "Set a label",
            "Point a label (production, staging, any slug) of a template at one of its versions, the newest by "
            "default. No version is made; the move is recorded. Clients configured for a label see that version. "
            "Protected labels (production by default) need the admin scope.",
            m.SetLabelInput,
            m.LabelOut,
            _set_label,
            read_only=False,
            idempotent=True,
        ),
        ToolSpec(
            "remove_label",
            "Remove a label",
            "Remove a label from a template (recorded); clients configured for that label no longer see it.",
            m.RemoveLabelInput,
            m.LabelOut,
            _remove_label,
            read_only=False,
            destructive=True,
            idempotent=True,
        ),
        ToolSpec(
            "template_stats",
            "Template usage",
            "How often templates were rendered (prompts/get, render_template, CLI) over the last days: renders, "
            "errors, last use and median/95th-percentile render time, per template or per client, label or "
            "version; and the templates nobody used.",
            m.StatsInput,
            m.StatsOut,
            _stats,
            read_only=True,
            idempotent=True,
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
    """What was wrong with a tool's arguments, field by field."""
    problems = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "arguments"
        text = "unknown argument" if item["type"] == "extra_forbidden" else str(item["msg"])
        problems.append(f"{where}: {text}")
    return f"invalid arguments for {tool}: " + "; ".join(problems)


def parse_arguments(spec: ToolSpec, arguments: dict[str, Any] | None) -> BaseModel | types.CallToolResult:
    """The tool's validated input, or the tool error that says what to fix."""
    try:
        return spec.input_model.model_validate(arguments or {})
    except ValidationError as exc:
        return tool_error(validation_message(spec.name, exc), code=ArgumentError.code)


def structured_result(output: BaseModel, *, exclude_none: bool = False) -> types.CallToolResult:
    """A successful tool result: the output as structured content, and as text for clients that read only text."""
    structured = output.model_dump(mode="json", exclude_none=exclude_none)
    text = structured["text"] if isinstance(output, m.RenderOut) else json.dumps(structured, ensure_ascii=False)
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], structured_content=structured, is_error=False
    )


async def call_tool(
    service: TemplateService, name: str, arguments: dict[str, Any] | None, *, caller: Caller
) -> types.CallToolResult:
    """Run a tool for ``caller``; user errors become ``isError`` results that say what to do."""
    spec = TOOLS.get(name)
    if spec is None:
        return tool_error(f"unknown tool {name!r}; the tools are: {', '.join(TOOLS)}", code=UNKNOWN_TOOL)
    parsed = parse_arguments(spec, arguments)
    if isinstance(parsed, types.CallToolResult):
        return parsed
    try:
        output = await spec.run(service, parsed, caller)
    except PbaError as exc:
        return tool_failure(name, exc)
    return structured_result(output)


READ_ONLY_TOOLS = frozenset(name for name, spec in TOOLS.items() if spec.read_only)


@cache
def tool_definitions() -> list[types.Tool]:
    """Every tool as ``tools/list`` shows it (built once, on first use)."""
    return [spec.definition() for spec in TOOLS.values()]
