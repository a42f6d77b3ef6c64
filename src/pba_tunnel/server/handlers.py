"""Protocol handlers as plain functions over wire dicts, shared by the SDK dispatch and the stdio fast path."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mcp import MCPError

from ..errors import NotFoundError, PbaError
from .errors import INVALID_PARAMS, RESOURCE_NOT_FOUND, protocol_error, tool_error
from .slot import ServiceSlot
from .tools import TOOL_DEFINITIONS, call_tool, current_render_call, render_tool_result

if TYPE_CHECKING:
    from ..rendering import RenderResult
    from ..store.store import PromptRow

PAGE_SIZE = 100
INDEX_URI = "templates://index"
TEMPLATE_URI = "template://"


def prompt_from_row(row: PromptRow) -> dict[str, Any]:
    """A template as ``prompts/list`` shows it: arguments with description and required flag as declared.

    Built straight from the stored row, without model validation: it is the listing clients call most.
    """
    arguments = [
        {
            "name": a["name"],
            "description": a["description"],
            "required": a["required"] if a.get("required") is not None else a.get("default") is None,
        }
        for a in json.loads(row.arguments_json)
    ]
    prompt: dict[str, Any] = {"name": row.name, "description": row.description, "arguments": arguments}
    if row.title:
        prompt["title"] = row.title
    return prompt


def prompt_messages(result: RenderResult) -> list[dict[str, Any]]:
    """MCP prompts have only user and assistant roles: system parts go on top of the first user message."""
    system = [m.content for m in result.messages if m.role == "system"]
    others = [(m.role, m.content) for m in result.messages if m.role != "system"]
    if system:
        first_user = next((i for i, (role, _) in enumerate(others) if role == "user"), None)
        if first_user is None:
            others.insert(0, ("user", "\n\n".join(system)))
        else:
            others[first_user] = ("user", "\n\n".join([*system, others[first_user][1]]))
    return [{"role": role, "content": {"type": "text", "text": text}} for role, text in others]


class Handlers:
    """Every MCP request this server answers, over one service."""

    def __init__(self, slot: ServiceSlot) -> None:
        self.slot = slot

    async def list_prompts(self, cursor: str | None) -> dict[str, Any]:
        try:
            rows, next_cursor = await (await self.slot.get()).prompt_rows(cursor=cursor, limit=PAGE_SIZE)
        except NotFoundError as exc:
            raise MCPError(code=INVALID_PARAMS, message=exc.message) from None
        except PbaError as exc:
            raise protocol_error(exc) from None
        result: dict[str, Any] = {"prompts": [prompt_from_row(row) for row in rows]}
        if next_cursor:
            result["nextCursor"] = next_cursor
        return result

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None) -> dict[str, Any]:
        try:
            result = await (await self.slot.get()).render(name, arguments or {}, client="mcp")
        except NotFoundError as exc:
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown prompt '{name}': {exc.message}") from None
        except PbaError as exc:
            raise protocol_error(exc) from None
        return {"description": result.description, "messages": prompt_messages(result)}

    def get_prompt_now(self, name: str, arguments: dict[str, Any] | None) -> dict[str, Any] | None:
        """``get_prompt`` without awaiting, when the template is cached; None when the store is needed."""
        service = self.slot.opened
        if service is None:
            return None
        try:
            result = service.render_cached(name, arguments or {}, client="mcp")
        except PbaError as exc:
            raise protocol_error(exc) from None
        return None if result is None else {"description": result.description, "messages": prompt_messages(result)}

    def render_tool_now(self, arguments: dict[str, Any]) -> dict[str, Any] | None:
        """The ``render_template`` tool without awaiting, when the template is cached; else None."""
        service = self.slot.opened
        call = current_render_call(arguments)
        if service is None or call is None:
            return None
        name, values = call
        try:
            result = service.render_cached(name, values, client="mcp")
        except PbaError as exc:
            return tool_error(f"render_template failed: {exc.message}")
        return None if result is None else render_tool_result(result)

    async def list_tools(self) -> dict[str, Any]:
        return {"tools": TOOL_DEFINITIONS}

    async def call_tool(self, name: str, arguments: dict[str, Any] | None) -> dict[str, Any]:
        try:
            service = await self.slot.get()
        except PbaError as exc:
            return tool_error(f"{name} failed: {exc.message}")
        return await call_tool(service, name, arguments)

    async def list_resources(self, cursor: str | None) -> dict[str, Any]:
        try:
            page = await (await self.slot.get()).list_templates(cursor=cursor, limit=PAGE_SIZE)
        except PbaError as exc:
            raise protocol_error(exc) from None
        resources = (
            []
            if cursor
            else [
                {
                    "uri": INDEX_URI,
                    "name": "template-index",
                    "title": "Template index",
                    "mimeType": "application/json",
                    "description": "Every template: name, title, description, category, tags, arguments and version",
                }
            ]
        )
        resources += [
            {
                "uri": f"{TEMPLATE_URI}{item.name}",
                "name": item.name,
                "title": item.title or item.name,
                "description": item.description,
                "mimeType": "text/markdown",
            }
            for item in page.items
        ]
        result: dict[str, Any] = {"resources": resources}
        if page.next_cursor:
            result["nextCursor"] = page.next_cursor
        return result

    async def list_resource_templates(self) -> dict[str, Any]:
        return {
            "resourceTemplates": [
                {
                    "uriTemplate": f"{TEMPLATE_URI}{{name}}",
                    "name": "template-source",
                    "mimeType": "text/markdown",
                    "description": "The current source of a template (front matter and body)",
                },
                {
                    "uriTemplate": f"{TEMPLATE_URI}{{name}}@{{version}}",
                    "name": "template-version-source",
                    "mimeType": "text/markdown",
                    "description": "The source of one version of a template",
                },
            ]
        }

    async def read_resource(self, uri: str) -> dict[str, Any]:
        try:
            if uri == INDEX_URI:
                return {"contents": [{"uri": uri, "mimeType": "application/json", "text": await self._index()}]}
            if uri.startswith(TEMPLATE_URI):
                name, _, version = uri.removeprefix(TEMPLATE_URI).partition("@")
                if version and not version.isdigit():
                    raise NotFoundError(f"'{version}' is not a version number")
                stored = await (await self.slot.get()).get(name, int(version) if version else None)
                return {"contents": [{"uri": uri, "mimeType": "text/markdown", "text": stored.source}]}
        except NotFoundError as exc:
            raise MCPError(
                code=RESOURCE_NOT_FOUND, message=f"Resource not found: {uri}: {exc.message}", data={"uri": uri}
            ) from None
        except PbaError as exc:
            raise protocol_error(exc) from None
        raise MCPError(
            code=RESOURCE_NOT_FOUND,
            message=f"Resource not found: {uri} (use {INDEX_URI} or {TEMPLATE_URI}NAME[@VERSION])",
            data={"uri": uri},
        )

    async def _index(self) -> str:
        entries: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = await (await self.slot.get()).list_templates(cursor=cursor, limit=1000)
            entries.extend(item.model_dump(mode="json", exclude={"kind", "deleted"}) for item in page.items)
            cursor = page.next_cursor
            if cursor is None:
                return json.dumps({"templates": entries}, ensure_ascii=False)

    async def complete(self, ref: dict[str, Any], argument: dict[str, Any]) -> dict[str, Any]:
        """Values for a prompt argument (enum, default, used before) or a template name in a resource URI."""
        name, value = str(argument.get("name", "")), str(argument.get("value", ""))
        values: list[str] = []
        try:
            if ref.get("type") == "ref/prompt":
                service = await self.slot.get()
                values = await service.complete_argument(str(ref.get("name", "")), name, value)
            elif ref.get("type") == "ref/resource" and name == "name":
                page = await (await self.slot.get()).list_templates(limit=1000)
                values = [i.name for i in page.items if i.name.startswith(value)]
        except NotFoundError:
            values = []  # completing for an unknown prompt offers nothing rather than failing the client
        except PbaError as exc:
            raise protocol_error(exc) from None
        return {"completion": {"values": values[:100], "total": len(values), "hasMore": len(values) > 100}}
