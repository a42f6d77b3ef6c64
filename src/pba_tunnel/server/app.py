"""The low-level MCP ``Server`` wired to our handlers, with honest capabilities."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import mcp.types as types
import structlog
from mcp.server import Server, ServerRequestContext
from mcp.server.caching import CacheableMethod, CacheHint
from mcp.server.lowlevel import NotificationOptions
from mcp.server.models import InitializationOptions
from mcp.server.request_state import RequestStateBoundary, RequestStateSecurity

from ..errors import PbaError
from .caller import CallerDefaults, caller_of
from .errors import tool_failure
from .handlers import DEFAULT_PAGE_SIZE, Handlers
from .notify import ChangeNotifier
from .param_errors import detail_param_errors
from .slot import ServiceSlot

if TYPE_CHECKING:
    from .enhance_tool import EnhanceTool

log = structlog.get_logger(__name__)

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


def package_version() -> str:
    """The installed version of mcp-pba-tunnel."""
    try:
        return version("mcp-pba-tunnel")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "0.0.0"


class TunnelServer(Server[Any]):
    """The SDK server, advertising on handshake-era connections the notifications this server delivers."""

    def __init__(self, *args: Any, delivers_notifications: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.delivers_notifications = delivers_notifications

    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        delivered = self.delivers_notifications
        return super().create_initialization_options(
            notification_options or NotificationOptions(prompts_changed=delivered, resources_changed=delivered),
            experimental_capabilities,
            extensions,
        )


class McpApp:
    """One service exposed as an MCP server: handlers, change notifications and the SDK server.

    ``stateless`` is for stateless HTTP, where no connection outlives its request: handshake-era clients are
    then promised no notifications and no resource subscriptions, since none could reach them.
    """

    def __init__(
        self,
        slot: ServiceSlot,
        *,
        stateless: bool = False,
        page_size: int = DEFAULT_PAGE_SIZE,
        callers: CallerDefaults | None = None,
    ) -> None:
        self.slot = slot
        self.callers = callers or CallerDefaults()
        self.handlers = Handlers(slot, page_size=page_size)
        self.notifier = ChangeNotifier(slot, deliver=not stateless)
        self._enhancer: EnhanceTool | None = None
        self.server: TunnelServer = self._build(stateless)

    async def _enhance(
        self, ctx: ServerRequestContext[Any], p: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        try:
            service = await self.slot.get()
        except PbaError as exc:
            return tool_failure(p.name, exc)
        if self._enhancer is None:
            # Imported on first use: it pulls in the enhancement core, which must not slow down a cold start.
            from .enhance_tool import EnhanceTool

            self._enhancer = EnhanceTool()
        caller = caller_of(ctx, self.callers)
        return await self._enhancer.call(ctx, service, p, author=caller.author, view=caller.view)

    def initialization_options(self) -> InitializationOptions:
        """Capabilities as advertised on handshake-era connections."""
        return self.server.create_initialization_options()

    async def _call_tool(
        self, ctx: ServerRequestContext[Any], p: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        from .scopes import denied_call
        from .tools import ENHANCE_TOOL, READ_ONLY_TOOLS, call_tool

        denied = denied_call(ctx.request, p.name)
        if denied is not None:
            return denied
        if p.name == ENHANCE_TOOL:
            result = await self._enhance(ctx, p)
            if isinstance(result, types.InputRequiredResult):
                return result  # 2026-07-28: the client asks its model and retries
        else:
            try:
                service = await self.slot.get()
            except PbaError as exc:
                return tool_failure(p.name, exc)
            result = await call_tool(service, p.name, p.arguments, caller=caller_of(ctx, self.callers))
        if not result.is_error and p.name not in READ_ONLY_TOOLS:
            try:
                await self.notifier.check()  # a write: tell every client now rather than at the next poll
            except Exception as exc:  # the write is done; the watcher's next poll tells them instead
                log.warning("could not notify clients after a write", error=str(exc))
        return result

    def _build(self, stateless: bool) -> TunnelServer:
        h = self.handlers

        async def list_prompts(ctx: ServerRequestContext[Any], p: types.PaginatedRequestParams) -> dict[str, Any]:
            return await h.list_prompts(p.cursor, caller_of(ctx, self.callers))

        async def get_prompt(ctx: ServerRequestContext[Any], p: types.GetPromptRequestParams) -> types.GetPromptResult:
            return await h.get_prompt(p.name, p.arguments, caller_of(ctx, self.callers))

        async def list_tools(
            ctx: ServerRequestContext[Any], _p: types.PaginatedRequestParams | None
        ) -> types.ListToolsResult:
            from .scopes import visible_tools
            from .tools import tool_definitions

            return types.ListToolsResult(tools=visible_tools(ctx.request, tool_definitions()))

        async def list_resources(
            ctx: ServerRequestContext[Any], p: types.PaginatedRequestParams | None
        ) -> types.ListResourcesResult:
            return await h.list_resources(p.cursor if p else None, caller_of(ctx, self.callers))

        async def list_templates(
            _ctx: ServerRequestContext[Any], _p: types.PaginatedRequestParams | None
        ) -> types.ListResourceTemplatesResult:
            return await h.list_resource_templates()

        async def read_resource(
            ctx: ServerRequestContext[Any], p: types.ReadResourceRequestParams
        ) -> types.ReadResourceResult:
            return await h.read_resource(str(p.uri), caller_of(ctx, self.callers))

        async def complete(ctx: ServerRequestContext[Any], p: types.CompleteRequestParams) -> types.CompleteResult:
            return await h.complete(p.ref, p.argument.name, p.argument.value, caller_of(ctx, self.callers))

        async def set_level(_ctx: ServerRequestContext[Any], _p: types.SetLevelRequestParams) -> types.EmptyResult:
            return types.EmptyResult()  # our logs go to stderr; accepting the level keeps clients that set one happy

        server = TunnelServer(
            "pba-tunnel",
            version=package_version(),
            title="MCP-PBA-TUNNEL",
            description="Prompt templates from one versioned store, for every MCP client",
            instructions=INSTRUCTIONS,
            delivers_notifications=not stateless,
            on_get_prompt=get_prompt,
            on_list_tools=list_tools,
            on_call_tool=self._call_tool,
            on_list_resources=list_resources,
            on_list_resource_templates=list_templates,
            on_read_resource=read_resource,
            on_completion=complete,
            on_subscriptions_listen=self.notifier.listen,
            cache_hints=CACHE_HINTS,
        )
        # The page goes to the SDK as the wire dict it validates anyway (``on_list_prompts`` wants a model).
        server.add_request_handler("prompts/list", types.PaginatedRequestParams, list_prompts)
        server.add_request_handler("logging/setLevel", types.SetLevelRequestParams, set_level)
        if not stateless:
            server.add_request_handler("resources/subscribe", types.SubscribeRequestParams, self.notifier.subscribe)
            server.add_request_handler(
                "resources/unsubscribe", types.UnsubscribeRequestParams, self.notifier.unsubscribe
            )
        # 2026-07-28 multi-round trips (enhance_template's sampling): the SDK seals the requestState we hand out
        # and verifies every echo, so a client cannot forge answers; the key lives in this process only.
        server.middleware.append(RequestStateBoundary(RequestStateSecurity.ephemeral(), default_audience=server.name))
        server.middleware.append(self.notifier.middleware)
        server.middleware.append(detail_param_errors)  # innermost: closest to the SDK's params validation
        return server
