"""Enhance a template with a model: render the instruction template, ask, validate, retry once, diff, save."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import anyio

from ..config import env_name
from ..errors import (
    EnhanceDeadlineError,
    EnhanceError,
    EnhanceRequestError,
    InstructionMissingError,
    NotFoundError,
    PbaError,
)
from ..providers.base import ChatMessage, Completion, CompletionOptions, Provider
from ..service import TemplateService
from ..store.records import EnhancementEvent
from ..templates.spec import ParsedTemplate
from .answer import AnswerProblem, extract_template, restore_name, validate_answer
from .models import EnhanceFailure, EnhanceRequest, EnhanceResult, instruction_template

MAX_ATTEMPTS = 2  # the first answer, and one retry told what was wrong
DEFAULT_MAX_TOKENS = 4096  # a whole template comes back; the provider default (2048) can cut it short
DEADLINE_ENV = env_name("enhance_deadline_seconds")
RAW_SOURCE_NAME = "template"  # the name given to raw source that names no template
RETRY_MESSAGE = (
    "Your answer is not an acceptable template: {problem}.\n\n"
    "Fix this and answer again with the complete template in one fenced ```markdown block."
)


@dataclass
class _Original:
    name: str
    source: str
    parsed: ParsedTemplate
    category: str | None
    version: int | None  # None for raw source


@dataclass
class _Spend:
    attempts: int = 0
    latency_ms: float = 0.0
    input_tokens: int | None = None
    output_tokens: int | None = None
    model: str | None = None
    provider: str | None = None

    def add(self, completion: Completion) -> None:
        self.attempts += 1
        self.latency_ms += completion.latency_ms
        usage = completion.usage
        if usage.input_tokens is not None:
            self.input_tokens = (self.input_tokens or 0) + usage.input_tokens
        if usage.output_tokens is not None:
            self.output_tokens = (self.output_tokens or 0) + usage.output_tokens
        self.model, self.provider = completion.model, completion.provider


async def _original(service: TemplateService, request: EnhanceRequest) -> _Original:
    if request.name is not None:
        stored, parsed = await service.current(request.name)
        return _Original(stored.name, stored.source, parsed, stored.category, stored.version)
    source = request.source or ""
    try:
        parsed = service.parse(source, default_name=RAW_SOURCE_NAME)
    except PbaError as exc:
        raise EnhanceRequestError(f"the source to enhance is not a valid template: {exc.message}") from None
    return _Original(parsed.name, source, parsed, parsed.spec.category, None)


async def _instruction(
    service: TemplateService, request: EnhanceRequest, original: _Original
) -> tuple[list[ChatMessage], CompletionOptions]:
    """The rendered instruction template (system role kept) and the options its model hints ask for."""
    name = instruction_template(request.goal)
    try:
        _stored, parsed = await service.current(name)
    except NotFoundError:
        raise InstructionMissingError(
            f"the instruction template '{name}' is not in the store: import it from the starter library's "
            "templates/enhance folder or create it",
            template=name,
        ) from None
    declared = {a.name for a in parsed.spec.arguments}
    values: dict[str, object] = {
        "source": original.source,
        "keep_arguments": not request.allow_argument_changes,
        "instruction": request.instruction or "",
    }
    try:
        rendered = await service.render(name, {k: v for k, v in values.items() if k in declared}, client="enhance")
    except PbaError as exc:
        raise EnhanceError(f"the instruction template '{name}' does not render: {exc.message}") from None
    hints = parsed.spec.model
    options = CompletionOptions(
        temperature=hints.temperature if hints else None,
        top_p=hints.top_p if hints else None,
        stop=hints.stop if hints else None,
        max_tokens=(hints.max_tokens if hints and hints.max_tokens else DEFAULT_MAX_TOKENS),
    )
    return [ChatMessage(role=m.role, content=m.content) for m in rendered.messages], options


def _diff(original: _Original, enhanced: str) -> str:
    before = f"{original.name}@{original.version}" if original.version is not None else f"{original.name} (given)"
    lines = difflib.unified_diff(
        original.source.splitlines(keepends=True),
        enhanced.splitlines(keepends=True),
        fromfile=before,
        tofile=f"{original.name} (enhanced)",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


async def _ask(
    provider: Provider,
    model: str | None,
    messages: list[ChatMessage],
    options: CompletionOptions,
    service: TemplateService,
    request: EnhanceRequest,
    original: _Original,
    spend: _Spend,
) -> ParsedTemplate:
    """Ask the model, validate its answer, retry once with the problem; EnhanceError after the last attempt."""
    conversation = list(messages)
    while True:
        completion = await provider.complete(conversation, model, options)
        spend.add(completion)
        candidate = restore_name(extract_template(completion.text), original.source, original.name)
        try:
            return validate_answer(
                service,
                candidate,
                original.parsed,
                category=original.category,
                allow_argument_changes=request.allow_argument_changes,
            )
        except AnswerProblem as problem:
            if spend.attempts >= MAX_ATTEMPTS:
                raise EnhanceError(
                    f"{completion.provider}/{completion.model} gave no valid template for '{original.name}' in "
                    f"{spend.attempts} attempts; last problem: {problem}. Try again, another model, or goal "
                    "custom with a more precise instruction"
                ) from None
            conversation += [
                ChatMessage(role="assistant", content=completion.text),
                ChatMessage(role="user", content=RETRY_MESSAGE.format(problem=problem)),
            ]


async def _record(
    service: TemplateService,
    request: EnhanceRequest,
    original: _Original,
    spend: _Spend,
    fallback_provider: str,
    fallback_model: str,
    *,
    saved_version: int | None = None,
    error: str | None = None,
) -> None:
    await service.record_enhancement(
        EnhancementEvent(
            name=original.name,
            goal=request.goal,
            provider=spend.provider or fallback_provider,
            model=spend.model or fallback_model,
            input_tokens=spend.input_tokens,
            output_tokens=spend.output_tokens,
            latency_ms=spend.latency_ms,
            attempts=spend.attempts,
            saved=saved_version is not None,
            saved_version=saved_version,
            error=error,
        )
    )


def _default_model(provider: Provider, model: str | None) -> str:
    if model is not None:
        return model
    try:
        return provider.default_model
    except PbaError:
        return "default"


async def enhance(
    service: TemplateService, provider: Provider, request: EnhanceRequest, *, model: str | None = None
) -> EnhanceResult:
    """Improve a stored template (or raw source) with ``provider``; save a new version when asked.

    Asking the model, retries included, must end within ``enhance_deadline_seconds`` (EnhanceDeadlineError).
    Every enhancement, failed or not, is recorded for statistics.
    """
    return await _enhance(service, provider, request, model=model, comparing=False)


async def _enhance(
    service: TemplateService, provider: Provider, request: EnhanceRequest, *, model: str | None, comparing: bool
) -> EnhanceResult:
    request.check(comparing=comparing)
    original = await _original(service, request)
    messages, options = await _instruction(service, request, original)
    spend = _Spend()
    fallback_model = _default_model(provider, model)
    deadline = service.settings.enhance_deadline_seconds
    parsed: ParsedTemplate | None = None
    try:
        # One deadline over every model call, retry and backoff wait: a provider's own timeout bounds one request.
        with anyio.move_on_after(deadline):
            parsed = await _ask(provider, model, messages, options, service, request, original, spend)
        if parsed is None:
            raise EnhanceDeadlineError(
                f"enhancing '{original.name}' was stopped at its {deadline:g} s deadline "
                f"({DEADLINE_ENV}) after {spend.attempts} finished model call(s); nothing was saved",
                seconds=deadline,
            )
    except PbaError as exc:
        await _record(service, request, original, spend, provider.name, fallback_model, error=exc.code)
        raise
    saved_version = None
    result_model, result_provider = spend.model or fallback_model, spend.provider or provider.name
    if request.save and request.name is not None:
        written = await service.update(
            original.name,
            parsed.source,
            expected_version=original.version,
            origin="enhance",
            author=request.author,
            message=f"enhanced by {result_provider}/{result_model} ({request.goal})",
        )
        saved_version = written.version if written.changed else None
    await _record(service, request, original, spend, provider.name, fallback_model, saved_version=saved_version)
    return EnhanceResult(
        name=original.name,
        goal=request.goal,
        source=parsed.source,
        diff=_diff(original, parsed.source),
        provider=result_provider,
        model=result_model,
        input_tokens=spend.input_tokens,
        output_tokens=spend.output_tokens,
        latency_ms=spend.latency_ms,
        attempts=spend.attempts,
        saved_version=saved_version,
    )


async def compare(
    service: TemplateService, candidates: list[tuple[Provider, str | None]], request: EnhanceRequest
) -> list[EnhanceResult | EnhanceFailure]:
    """The same enhancement through two or three providers at once, in the order given; a provider that
    fails yields an EnhanceFailure instead of sinking the others. Nothing is saved."""
    request.check(comparing=True)
    if not 2 <= len(candidates) <= 3:
        raise EnhanceRequestError(f"compare takes two or three providers, got {len(candidates)}")
    await _original(service, request)  # a missing template or invalid source fails the whole compare, once
    results: list[EnhanceResult | EnhanceFailure | None] = [None] * len(candidates)

    async def one(index: int, provider: Provider, model: str | None) -> None:
        try:
            results[index] = await _enhance(service, provider, request, model=model, comparing=True)
        except Exception as exc:  # one provider's failure is reported, never raised over the others
            message = exc.message if isinstance(exc, PbaError) else f"{type(exc).__name__}: {exc}"
            code = exc.code if isinstance(exc, PbaError) else "provider_error"
            results[index] = EnhanceFailure(
                provider=provider.name, model=_default_model(provider, model), error=message, code=code
            )

    async with anyio.create_task_group() as group:
        for index, (provider, model) in enumerate(candidates):
            group.start_soon(one, index, provider, model)
    return [r for r in results if r is not None]
