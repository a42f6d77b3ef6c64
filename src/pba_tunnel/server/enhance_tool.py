"""The ``enhance_template`` tool: improve a template with a model, by default the connected client's own.

It needs the request's context (the client's capabilities, its session, the protocol era), so the SDK dispatch
calls it directly (app.py) instead of through ``tools.call_tool``; it is not read-only, so the stdio fast path
always hands it on to the SDK.

Sampling, by era:
- handshake era (2024-11-05 … 2025-11-25): ``sampling/createMessage`` sent mid-call, related to the tool call;
- 2026-07-28: there are no server-to-client requests. The tool answers ``InputRequiredResult`` carrying the
  ``sampling/createMessage`` request(s); the client asks its model and retries ``tools/call`` with the answers
  (``inputResponses``) and the opaque ``requestState``. Each retry re-runs the enhancement from the start; every
  sample answered so far rides the state (sealed by the SDK's ``RequestStateBoundary``), so each question is
  asked once and a retry-with-feedback inside ``enhance()`` becomes one more round.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any

import mcp.types as types
from mcp import MCPError
from mcp.server import ServerRequestContext
from mcp.server.request_state import compact_json
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types.version import is_version_at_least
from pydantic import ValidationError

from ..enhance import EnhanceRequest, EnhanceResult, compare, enhance
from ..errors import EnhanceError, EnhanceRequestError, PbaError, ProviderError, ProviderNotConfiguredError
from ..labels import LabelView
from ..providers.base import ChatMessage, CompletionOptions, Provider
from ..providers.sampling import ALTERNATIVES, Sampled, Sampler, SamplingProvider
from ..providers.sampling import NAME as SAMPLING
from ..service import TemplateService
from . import tool_models as m
from .errors import tool_error, tool_failure
from .tools import ENHANCE_TOOL, TOOLS, parse_arguments, structured_result

INPUT_REQUIRED_VERSION = "2026-07-28"
STATE_VERSION = 1
NO_SAMPLING = (
    "enhance_template needs a model: this MCP client did not declare the sampling capability, so the server "
    f"cannot borrow the client's own model. Instead, {ALTERNATIVES}."
)

ProviderFactory = Callable[[str], Provider]

# Handshake-era clients still sample through sampling/createMessage; the SDK's notice that 2026-07-28 deprecates
# it (SEP-2577) is about the newer era, which this tool serves through InputRequiredResult instead.
warnings.filterwarnings("ignore", message="The sampling capability is deprecated", category=MCPDeprecationWarning)


def _default_provider_factory(name: str) -> Provider:
    from ..providers import get_provider
    from ..providers.settings import provider_config

    return get_provider(name, provider_config(name))


class SamplingPending(Exception):
    """Raised by the 2026-07-28 sampler for a question the client has not answered yet."""


def _split(messages: list[ChatMessage]) -> tuple[str | None, list[types.SamplingMessage]]:
    """MCP sampling has user/assistant messages and one system prompt: system parts go there."""
    system = "\n\n".join(msg.content for msg in messages if msg.role == "system") or None
    rest = [
        types.SamplingMessage(role=msg.role, content=types.TextContent(type="text", text=msg.content))
        for msg in messages
        if msg.role != "system"
    ]
    if not rest:  # a sampling request needs a message; the instruction alone becomes the user turn
        rest = [types.SamplingMessage(role="user", content=types.TextContent(type="text", text=system or ""))]
        system = None
    return system, rest


def sampling_params(
    messages: list[ChatMessage], model: str | None, options: CompletionOptions
) -> types.CreateMessageRequestParams:
    """The ``sampling/createMessage`` params for a completion (the same shape in both eras)."""
    system, sampling_messages = _split(messages)
    return types.CreateMessageRequestParams(
        messages=sampling_messages,
        system_prompt=system,
        max_tokens=options.max_tokens,
        temperature=options.temperature,
        stop_sequences=options.stop,
        include_context="none",
        model_preferences=types.ModelPreferences(hints=[types.ModelHint(name=model)]) if model else None,
    )


def _sampled(result: types.CreateMessageResult) -> Sampled:
    content = result.content
    if not isinstance(content, types.TextContent):
        raise ProviderError(f"the MCP client's model answered with {content.type} content, not text")
    return Sampled(text=content.text, model=result.model)


def handshake_sampler(ctx: ServerRequestContext[Any]) -> Sampler:
    """Ask the client mid-call with ``sampling/createMessage`` (handshake-era connections)."""

    async def sample(messages: list[ChatMessage], model: str | None, options: CompletionOptions) -> Sampled:
        params = sampling_params(messages, model, options)
        try:
            result = await ctx.session.create_message(
                messages=params.messages,
                max_tokens=params.max_tokens,
                system_prompt=params.system_prompt,
                include_context=params.include_context,
                temperature=params.temperature,
                stop_sequences=params.stop_sequences,
                model_preferences=params.model_preferences,
                related_request_id=ctx.request_id,
            )
        except MCPError as exc:
            raise ProviderError(f"the MCP client did not answer the sampling request: {exc.error.message}") from None
        return _sampled(result)

    return sample


def _digest(params: types.CreateMessageRequestParams) -> str:
    rendered = compact_json(params.model_dump(mode="json", by_alias=True, exclude_none=True))
    return base64.urlsafe_b64encode(hashlib.sha256(rendered.encode()).digest()[:12]).decode().rstrip("=")


class InputRound:
    """One 2026-07-28 round: answers known so far, and the sampling questions still to ask."""

    def __init__(self, responses: types.InputResponses | None, request_state: str | None) -> None:
        self.known: dict[str, dict[str, Any]] = {}
        if request_state:
            try:
                state = json.loads(request_state)
                if isinstance(state, dict) and state.get("v") == STATE_VERSION:
                    self.known.update(state.get("samples", {}))
            except ValueError:
                pass  # the boundary only lets through state this server minted; treat drift as no progress
        for key, answer in (responses or {}).items():
            if isinstance(answer, types.CreateMessageResult):
                self.known[key] = answer.model_dump(mode="json", by_alias=True, exclude_none=True)
        self.used: dict[str, dict[str, Any]] = {}
        self.pending: dict[str, types.CreateMessageRequest] = {}
        self._asked: Counter[str] = Counter()

    async def sample(self, messages: list[ChatMessage], model: str | None, options: CompletionOptions) -> Sampled:
        params = sampling_params(messages, model, options)
        digest = _digest(params)
        self._asked[digest] += 1
        # The key pins the exact question (and how often it was asked in this run), so an answer can only
        # satisfy the question it was given for, and a repeated question gets a fresh answer.
        key = f"sample-{digest}-{self._asked[digest]}"
        wire = self.known.get(key)
        if wire is None:
            self.pending[key] = types.CreateMessageRequest(params=params)
            raise SamplingPending(key)
        try:
            result = types.CreateMessageResult.model_validate(wire)
        except ValidationError:
            raise ProviderError("the MCP client answered the sampling request with something else") from None
        self.used[key] = wire
        return _sampled(result)

    def input_required(self) -> types.InputRequiredResult:
        """The ``InputRequiredResult``: the pending questions and everything answered so far."""
        state = compact_json({"v": STATE_VERSION, "samples": self.used})
        return types.InputRequiredResult(input_requests=dict(self.pending), request_state=state)


def _parse_candidate(spec: str) -> tuple[str, str | None]:
    """``provider`` or ``provider:model`` (the model may hold colons itself, e.g. ``ollama:llama3.2:3b``)."""
    provider, _, model = spec.strip().partition(":")
    return provider, model or None


class EnhanceTool:
    """Runs ``enhance_template`` for one SDK request."""

    def __init__(self, provider_factory: ProviderFactory = _default_provider_factory) -> None:
        self.provider_factory = provider_factory

    async def call(
        self,
        ctx: ServerRequestContext[Any],
        service: TemplateService,
        params: types.CallToolRequestParams,
        *,
        author: str,
        view: LabelView | None = None,
    ) -> types.CallToolResult | types.InputRequiredResult:
        """A tool result (``isError`` on failure) or, on 2026-07-28, an input-required result; ``author`` is
        recorded on a saved version. A client with ``view`` enhances a stored template only when the version it
        sees is the newest (enhancing reads and saves over the newest)."""
        args = parse_arguments(TOOLS[ENHANCE_TOOL], params.arguments)
        if isinstance(args, types.CallToolResult):
            return args
        assert isinstance(args, m.EnhanceInput)
        if args.name is not None:
            try:
                await service.newest_shown(args.name, view)
            except PbaError as exc:
                return tool_failure(ENHANCE_TOOL, exc)
        capabilities = ctx.session.client_capabilities
        can_sample = capabilities is not None and capabilities.sampling is not None
        modern = is_version_at_least(ctx.protocol_version, INPUT_REQUIRED_VERSION)
        round_ = InputRound(params.input_responses, params.request_state) if modern else None
        sampler: Sampler = round_.sample if round_ is not None else handshake_sampler(ctx)

        specs = (
            [_parse_candidate(c) for c in args.compare]
            if args.compare
            else [(args.provider or (SAMPLING if can_sample else ""), args.model)]
        )
        if any(name in ("", SAMPLING) for name, _ in specs) and not can_sample:
            return tool_error(NO_SAMPLING, code=ProviderNotConfiguredError.code)
        try:
            request = EnhanceRequest(
                name=args.name,
                source=args.source,
                goal=args.goal,
                instruction=args.instruction,
                allow_argument_changes=args.allow_argument_changes,
                save=args.save,  # with compare, EnhanceRequest.check says why that cannot be
                author=author,
            )
        except (ValidationError, PbaError, ValueError) as exc:
            code = exc.code if isinstance(exc, PbaError) else EnhanceRequestError.code
            return tool_error(f"{ENHANCE_TOOL} failed: {getattr(exc, 'message', exc)}", code=code)

        providers: list[Provider] = []
        try:
            try:
                for name, _model in specs:
                    providers.append(SamplingProvider(sampler) if name == SAMPLING else self.provider_factory(name))
                outcome = await self._run(service, providers, [model for _, model in specs], request, args)
            except SamplingPending:
                outcome = None
            except PbaError as exc:
                if round_ is not None and round_.pending:
                    return round_.input_required()
                return tool_failure(ENHANCE_TOOL, exc)
        finally:
            for provider in providers:
                await _close(provider)
        if round_ is not None and round_.pending:
            return round_.input_required()  # even when compare() caught our signal as one candidate's failure
        assert outcome is not None
        return outcome

    async def _run(
        self,
        service: TemplateService,
        providers: list[Provider],
        models: list[str | None],
        request: EnhanceRequest,
        args: m.EnhanceInput,
    ) -> types.CallToolResult:
        if not args.compare:
            result = await enhance(service, providers[0], request, model=models[0])
            out = m.EnhanceOut(**result.model_dump())
        else:
            candidates: list[m.EnhanceCandidateOut] = []
            for item in await compare(service, list(zip(providers, models, strict=True)), request):
                if isinstance(item, EnhanceResult):
                    candidates.append(m.EnhanceCandidateOut(ok=True, result=item))
                else:
                    candidates.append(m.EnhanceCandidateOut(ok=False, failure=item))
            best = next((c.result for c in candidates if c.result is not None), None)
            if best is None:
                failures = "; ".join(f"{c.failure.provider}: {c.failure.error}" for c in candidates if c.failure)
                return tool_error(f"{ENHANCE_TOOL} failed for every provider: {failures}", code=EnhanceError.code)
            out = m.EnhanceOut(**best.model_dump(), candidates=candidates)
        return structured_result(out, exclude_none=True)


async def _close(provider: Provider) -> None:
    with contextlib.suppress(Exception):  # closing a pool must not hide the tool's own result
        await provider.aclose()
