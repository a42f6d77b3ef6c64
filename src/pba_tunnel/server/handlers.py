"""The MCP requests about prompts, resources and completions, answered through the service as ``mcp.types``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import mcp.types as types
from mcp import MCPError

from ..errors import NotFoundError, PbaError, VersionNotFoundError, VersionNotShownError
from ..labels import LABEL_PATTERN
from .caller import Caller
from .errors import FIND_NAMES, INVALID_PARAMS, RESOURCE_NOT_FOUND, explain, protocol_error
from .slot import ServiceSlot

if TYPE_CHECKING:
    from ..rendering import RenderResult
    from ..store import TemplateSummary
    from ..store.store import PromptRow

# Many clients never follow nextCursor (langchain-mcp-adapters, llama-index, mcp-use): a page this size keeps a
# library of normal size whole for them, and still lists in a few milliseconds.
DEFAULT_PAGE_SIZE = 1000
INDEX_URI = "templates://index"
STATS_URI = "stats://templates"
STATS_DAYS = 30  # the period stats://templates covers
TEMPLATE_URI = "template://"
MAX_COMPLETIONS = 100
ARGUMENT_LISTS_KEPT = 1_000  # distinct argument lists of prompts/list entries kept parsed (~1.5 KB each at most)


# A prompts/list entry or page as JSON-RPC carries it (camelCase keys). The SDK validates and dumps every result
# against the protocol version's schema whatever the handler returns, so handing it a model as well would build,
# and then dump, 400 models a page (~0.4 ms of a 2 ms page) only for it to validate the dump again.
WireObject = dict[str, Any]


class PromptEntries:
    """``prompts/list`` entries built from store rows, as wire dicts.

    Building an entry is a few dict lookups; only the parsed argument lists are remembered (by their JSON), since
    decoding that JSON is the costly part and most templates share a handful of argument lists.
    """

    def __init__(self, limit: int = ARGUMENT_LISTS_KEPT) -> None:
        self._limit = limit
        self._arguments: dict[str, list[WireObject]] = {}

    def page(self, rows: list[PromptRow]) -> list[WireObject]:
        """Templates as ``prompts/list`` shows them: arguments with description and required flag as declared."""
        known = self._arguments
        return [
            {
                "name": name,
                "title": title or None,
                "description": description,
                "arguments": known.get(arguments_json) or self._argument_list(arguments_json),
            }
            for name, title, description, arguments_json in rows
        ]

    def _argument_list(self, arguments_json: str) -> list[WireObject]:
        arguments = self._arguments.get(arguments_json)
        if arguments is None:
            if len(self._arguments) >= self._limit:
                self._arguments.clear()
            arguments = self._arguments[arguments_json] = [
                {
                    "name": a["name"],
                    "description": a["description"],
                    "required": a["required"] if a.get("required") is not None else a.get("default") is None,
                }
                for a in json.loads(arguments_json)
            ]
        return arguments


def prompt_messages(result: RenderResult) -> list[types.PromptMessage]:
    """MCP prompts have only user and assistant roles: system parts go on top of the first user message."""
    system = [m.content for m in result.messages if m.role == "system"]
    others = [(m.role, m.content) for m in result.messages if m.role != "system"]
    if system:
        first_user = next((i for i, (role, _) in enumerate(others) if role == "user"), None)
        if first_user is None:
            others.insert(0, ("user", "\n\n".join(system)))
        else:
            others[first_user] = ("user", "\n\n".join([*system, others[first_user][1]]))
    return [types.PromptMessage(role=role, content=types.TextContent(type="text", text=text)) for role, text in others]


def template_uri(name: str) -> str:
    """The resource URI of a template's current source."""
    return f"{TEMPLATE_URI}{name}"


def parse_template_uri(uri: str) -> tuple[str, int | str | None] | None:
    """``(name, version or label)`` of a ``template://NAME[@VERSION|@LABEL]`` URI; None for any other URI."""
    if not uri.startswith(TEMPLATE_URI):
        return None
    name, _, version = uri.removeprefix(TEMPLATE_URI).partition("@")
    if not name:
        return None
    if version.isdigit():
        return (name, int(version)) if len(version) <= 10 else None
    if version:
        return (name, version) if LABEL_PATTERN.match(version) else None
    return name, None


def unreadable(uri: str) -> str:
    """Why ``uri`` names no resource of ours, and which URIs do."""
    version = uri.partition("@")[2]
    if uri.startswith(TEMPLATE_URI) and version:
        return f"'{version}' is neither a version number nor a label; use {TEMPLATE_URI}NAME@VERSION or @LABEL"
    return f"use {INDEX_URI}, {STATS_URI} or {TEMPLATE_URI}NAME[@VERSION|@LABEL]"


def resource_hint(exc: NotFoundError) -> str:
    """The facts of a missing resource with what to do: other URIs, unless the name was right."""
    if isinstance(exc, VersionNotShownError | VersionNotFoundError):  # the name was right
        return explain(exc)
    return f"{exc.message}; call resources/list to find the URIs" if exc.name else exc.message


class Handlers:
    """Every MCP request about prompts, resources and completions, over one service."""

    def __init__(self, slot: ServiceSlot, *, page_size: int = DEFAULT_PAGE_SIZE) -> None:
        self.slot = slot
        self.page_size = page_size
        self._prompt_entries = PromptEntries()

    async def list_prompts(self, cursor: str | None, caller: Caller) -> dict[str, Any]:
        """A page of prompts as the wire dict of a ``ListPromptsResult`` (the SDK validates it against the schema)."""
        try:
            service = await self.slot.get()
            rows, next_cursor = await service.prompt_rows(cursor=cursor, limit=self.page_size, view=caller.view)
        except PbaError as exc:
            raise protocol_error(exc) from None
        prompts = self._prompt_entries.page(rows)
        # resultType: what the model's default puts in (2026-07-28 requires it; older versions' schemas drop it)
        return {"prompts": prompts, "nextCursor": next_cursor, "resultType": "complete"}

    async def get_prompt(self, name: str, arguments: dict[str, str] | None, caller: Caller) -> types.GetPromptResult:
        try:
            service = await self.slot.get()
            result = await service.render(name, arguments or {}, client=caller.client, view=caller.view)
        except NotFoundError as exc:
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"Unknown prompt '{name}': {explain(exc) if exc.name else f'{exc.message}; {FIND_NAMES}'}",
                data={"reason": exc.code},
            ) from None
        except PbaError as exc:
            raise protocol_error(exc) from None
        return types.GetPromptResult(description=result.description, messages=prompt_messages(result))

    async def list_resources(self, cursor: str | None, caller: Caller) -> types.ListResourcesResult:
        try:
            service = await self.slot.get()
            page = await service.list_templates(cursor=cursor, limit=self.page_size, view=caller.view)
        except PbaError as exc:
            raise protocol_error(exc) from None
        resources = (
            []
            if cursor
            else [
                types.Resource(
                    uri=INDEX_URI,
                    name="template-index",
                    title="Template index",
                    mime_type="application/json",
                    description="Every template: name, title, description, category, tags, arguments and version",
                ),
                types.Resource(
                    uri=STATS_URI,
                    name="template-stats",
                    title="Template usage",
                    mime_type="application/json",
                    description=f"Renders, errors, last use and render times of each template over {STATS_DAYS} days",
                ),
            ]
        )
        resources += [
            types.Resource(
                uri=template_uri(item.name),
                name=item.name,
                title=item.title or item.name,
                description=item.description,
                mime_type="text/markdown",
            )
            for item in page.items
        ]
        return types.ListResourcesResult(resources=resources, next_cursor=page.next_cursor)

    async def list_resource_templates(self) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    uri_template=f"{TEMPLATE_URI}{{name}}",
                    name="template-source",
                    mime_type="text/markdown",
                    description="The current source of a template (front matter and body)",
                ),
                types.ResourceTemplate(
                    uri_template=f"{TEMPLATE_URI}{{name}}@{{version}}",
                    name="template-version-source",
                    mime_type="text/markdown",
                    description="The source of one version of a template: a version number, or a label such as "
                    "production (the version it points at)",
                ),
            ]
        )

    async def read_resource(self, uri: str, caller: Caller) -> types.ReadResourceResult:
        target = parse_template_uri(uri)
        try:
            if uri == INDEX_URI:
                text, mime_type = await self._index(caller), "application/json"
            elif uri == STATS_URI:
                text, mime_type = await self._stats(caller), "application/json"
            elif target is not None:
                name, which = target
                version, label = (which, None) if isinstance(which, int) else (None, which)
                stored = await (await self.slot.get()).get(name, version, label=label, view=caller.view)
                text, mime_type = stored.source, "text/markdown"
            else:
                raise MCPError(
                    code=RESOURCE_NOT_FOUND,
                    message=f"Resource not found: {uri} ({unreadable(uri)})",
                    data={"uri": uri},
                )
        except NotFoundError as exc:
            raise MCPError(
                code=RESOURCE_NOT_FOUND,
                message=f"Resource not found: {uri}: {resource_hint(exc)}",
                data={"uri": uri, "reason": exc.code},
            ) from None
        except PbaError as exc:
            raise protocol_error(exc) from None
        return types.ReadResourceResult(contents=[types.TextResourceContents(uri=uri, mime_type=mime_type, text=text)])

    async def _index(self, caller: Caller) -> str:
        from ..paging import walk_pages  # it imports the store: not on the way to the first answer
        from ..store.cursors import MAX_PAGE

        service = await self.slot.get()

        async def fetch(cursor: str | None) -> tuple[list[TemplateSummary], str | None]:
            page = await service.list_templates(cursor=cursor, limit=MAX_PAGE, view=caller.view)  # at its versions
            return page.items, page.next_cursor

        entries = [item.model_dump(mode="json", exclude={"kind", "deleted"}) async for item in walk_pages(fetch)]
        return json.dumps({"templates": entries}, ensure_ascii=False)

    async def _stats(self, caller: Caller) -> str:
        service = await self.slot.get()
        since = (datetime.now(UTC) - timedelta(days=STATS_DAYS - 1)).date()
        stats = await service.usage(since=since, view=caller.view)
        return json.dumps(
            {"since": since.isoformat(), "templates": [s.model_dump(mode="json", exclude={"group"}) for s in stats]},
            ensure_ascii=False,
        )

    async def complete(
        self,
        ref: types.PromptReference | types.ResourceTemplateReference,
        argument: str,
        value: str,
        caller: Caller,
    ) -> types.CompleteResult:
        """Values for a prompt argument (enum, default, used before) or a template name in a resource URI."""
        values: list[str] = []
        try:
            if isinstance(ref, types.PromptReference):
                service = await self.slot.get()
                values = await service.complete_argument(
                    ref.name, argument, value, client=caller.client, view=caller.view
                )
            elif argument == "name":
                service = await self.slot.get()
                items = (await service.list_templates(limit=1000, view=caller.view)).items
                values = [i.name for i in items if i.name.startswith(value)]
        except NotFoundError:
            values = []  # completing for an unknown prompt offers nothing rather than failing the client
        except PbaError as exc:
            raise protocol_error(exc) from None
        return types.CompleteResult(
            completion=types.Completion(
                values=values[:MAX_COMPLETIONS], total=len(values), has_more=len(values) > MAX_COMPLETIONS
            )
        )
