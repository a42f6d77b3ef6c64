"""The low-level MCP ``Server`` wired to our handlers, with honest capabilities."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import mcp.types as types
from mcp.server import Server, ServerRequestContext
from mcp.server.caching import CacheableMethod, CacheHint
from mcp.server.lowlevel import NotificationOptions
from mcp.server.models import InitializationOptions
from mcp.server.request_state import RequestStateBoundary, RequestStateSecurity
from mcp.server.subscriptions import ListenHandler

from ..errors import PbaError
from .errors import tool_error
from .handlers import Handlers
from .notify import ChangeNotifier
from .slot import ServiceSlot
from .tools import ENHANCE_TOOL, READ_ONLY_TOOLS

if TYPE_CHECKING:
    from .enhance_tool import EnhanceTool

INSTRUCTIONS = (
    "Prompt templates from the user's MCP-PBA-TUNNEL library. Each template is an MCP prompt; when your client "
    "does not show prompts, use search_templates to find one and render_template to fill it in. Templates are "
    "versioned: update_template keeps history, rollback_template restores an earlier version."
)


# Templates can change at any moment (any process may write the store): 2026-07-28 clients get list results
# that are stale at once, so they refetch after each list_changed instead of serving a cached list.
CACHE_HINTS: dict[CacheableMethod, CacheHint] = {
    method: CacheHint(ttl_ms=0, scope="private")
    for method in ("prompts/list", "resources/list", "resources/read", "resources/templates/list", "tools/list")
}


def complete_result(result: dict[str, Any]) -> dict[str, Any]:
    """A handler's wire dict for the SDK dispatch: 2026-07-28 requires ``resultType`` (older versions drop it)."""
    return {"resultType": "complete", **result}


def package_version() -> str:
    """The installed version of mcp-pba-tunnel."""
    try:
        return version("mcp-pba-tunnel")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "0.0.0"


class TunnelServer(Server[Any]):
    """The SDK server, advertising ``listChanged: true`` on every transport (the SDK default is false)."""

    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        return super().create_initialization_options(
            notification_options or NotificationOptions(prompts_changed=True, resources_changed=True),
            experimental_capabilities,
            extensions,
        )


class McpApp:
    """One service exposed as an MCP server: handlers, change notifications and the SDK server."""

    def __init__(self, slot: ServiceSlot) -> None:
        self.slot = slot
        self.handlers = Handlers(slot)
        self.notifier = ChangeNotifier(slot)
        self._enhancer: EnhanceTool | None = None
        self.server: Server[Any] = self._build()

    async def _enhance(self, ctx: ServerRequestContext[Any], p: types.CallToolRequestParams) -> dict[str, Any]:
        try:
            service = await self.slot.get()
        except PbaError as exc:
            return tool_error(f"{p.name} failed: {exc.message}")
        if self._enhancer is None:
            # Imported on first use: it pulls in the enhancement core, which must not slow down a cold start.
            from .enhance_tool import EnhanceTool

            self._enhancer = EnhanceTool()
        return await self._enhancer.call(ctx, service, p)

    def initialization_options(self) -> InitializationOptions:
        """Capabilities as advertised on handshake-era connections (listChanged true)."""
        return self.server.create_initialization_options()

    def _build(self) -> TunnelServer:
        h = self.handlers

        async def list_prompts(_ctx: ServerRequestContext[Any], p: types.PaginatedRequestParams | None) -> Any:
            return complete_result(await h.list_prompts(p.cursor if p else None))

        async def get_prompt(_ctx: ServerRequestContext[Any], p: types.GetPromptRequestParams) -> Any:
            return complete_result(await h.get_prompt(p.name, p.arguments))

        async def list_tools(_ctx: ServerRequestContext[Any], _p: types.PaginatedRequestParams | None) -> Any:
            return complete_result(await h.list_tools())

        async def call_tool(ctx: ServerRequestContext[Any], p: types.CallToolRequestParams) -> Any:
            if p.name == ENHANCE_TOOL:
                result = await self._enhance(ctx, p)
                if result.get("resultType") == "input_required":
                    return result  # 2026-07-28: the client asks its model and retries
            else:
                result = await h.call_tool(p.name, p.arguments)
            if not result.get("isError") and p.name not in READ_ONLY_TOOLS:
                await self.notifier.check()  # a write: tell every client now rather than at the next poll
            return complete_result(result)

        async def list_resources(_ctx: ServerRequestContext[Any], p: types.PaginatedRequestParams | None) -> Any:
            return complete_result(await h.list_resources(p.cursor if p else None))

        async def list_templates(_ctx: ServerRequestContext[Any], _p: types.PaginatedRequestParams | None) -> Any:
            return complete_result(await h.list_resource_templates())

        async def read_resource(_ctx: ServerRequestContext[Any], p: types.ReadResourceRequestParams) -> Any:
            return complete_result(await h.read_resource(str(p.uri)))

        async def complete(_ctx: ServerRequestContext[Any], p: types.CompleteRequestParams) -> Any:
            return complete_result(
                await h.complete(p.ref.model_dump(by_alias=True), p.argument.model_dump(by_alias=True))
            )

        async def set_level(_ctx: ServerRequestContext[Any], _p: types.SetLevelRequestParams) -> Any:
            return {}  # our logs go to stderr; accepting the level keeps clients that set one happy

        server = TunnelServer(
            "pba-tunnel",
            version=package_version(),
            title="MCP-PBA-TUNNEL",
            description="Prompt templates from one versioned store, for every MCP client",
            instructions=INSTRUCTIONS,
            on_list_prompts=list_prompts,
            on_get_prompt=get_prompt,
            on_list_tools=list_tools,
            on_call_tool=call_tool,
            on_list_resources=list_resources,
            on_list_resource_templates=list_templates,
            on_read_resource=read_resource,
            on_completion=complete,
            on_subscriptions_listen=ListenHandler(self.notifier.bus),
            cache_hints=CACHE_HINTS,
        )
        server.add_request_handler("logging/setLevel", types.SetLevelRequestParams, set_level)
        # 2026-07-28 multi-round trips (enhance_template's sampling): the SDK seals the requestState we hand out
        # and verifies every echo, so a client cannot forge answers; the key lives in this process only.
        server.middleware.append(RequestStateBoundary(RequestStateSecurity.ephemeral(), default_audience=server.name))
        server.middleware.append(self.notifier.middleware)
        return server
