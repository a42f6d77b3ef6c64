"""Render parsed templates in the bounded sandbox, with compiled templates cached by content hash."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import Template, TemplateError, TemplateNotFound, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.runtime import Context

from ..config import Limits
from ..errors import OutputTooLargeError, PbaError, RecursionLimitError, RenderError, SandboxViolationError
from ..templates.spec import ParsedTemplate, Role
from .arguments import resolve_arguments
from .budget import Budget, current_budget
from .sandbox import BoundedSandbox


# Plain slotted dataclasses, not pydantic models: building them is on every render's path.
@dataclass(slots=True)
class RenderedMessage:
    """One message of a rendered template."""

    role: Role
    content: str


@dataclass(slots=True)
class RenderResult:
    """What a render produced: the messages (system kept), the joined text and how long it took."""

    name: str
    version: int | None
    description: str
    messages: list[RenderedMessage]
    text: str
    duration_ms: float


@dataclass(frozen=True, slots=True)
class CompiledPart:
    """A compiled message part with what a render needs precomputed (Jinja's per-render context set-up
    merges ChainMaps of globals, which costs more than rendering a short prompt)."""

    role: Role
    template: Template | None  # None: only text and substitutions, printed from ``pieces`` without Jinja code
    globals: dict[str, Any]
    pieces: tuple[str | nodes.Name, ...] = ()


CompiledParts = tuple[CompiledPart, ...]
# What a template may hold and still render on the event loop: text and bare substitutions of arguments, whose
# render time grows only with the output (bounded by max_output_bytes). Anything that loops, calls, filters,
# includes, branches or computes (a string times a number) renders in a worker thread, under its time limit.


class Renderer:
    """Compiles (once per content hash) and renders templates within the configured limits."""

    def __init__(
        self, limits: Limits, partials: Callable[[str], str | None] | None = None, cache_size: int = 4096
    ) -> None:
        self.limits = limits
        self.environment = BoundedSandbox(limits, partials)
        self._compiled: OrderedDict[str, CompiledParts] = OrderedDict()
        self._quick: dict[str, bool] = {}
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def renders_quickly(self, template: ParsedTemplate) -> bool:
        """True when ``template`` is only text and ``{{ argument }}`` substitutions (safe to render inline)."""
        quick = self._quick.get(template.content_hash)
        if quick is None:
            try:
                pieces = [_pieces(self.environment.parse(part.source)) for part in template.parts]
            except TemplateError:
                pieces = [None]  # the render reports the error, from a worker thread like any other
            quick = all(p is not None for p in pieces)
            if quick:  # such parts print their pieces in order: no Python code to generate and compile for them
                globals = dict(self.environment.globals)
                parts = (
                    CompiledPart(part.role, None, globals, p or ())
                    for part, p in zip(template.parts, pieces, strict=True)
                )
                self._remember(template.content_hash, tuple(parts))
            if len(self._quick) >= self._cache_size:
                self._quick.clear()
            self._quick[template.content_hash] = quick
        return quick

    def compiled(self, template: ParsedTemplate) -> CompiledParts:
        """The compiled parts of ``template``; a compile costs ~80 renders, so it is cached by hash."""
        with self._lock:  # renders run in worker threads; the cache's order is shared state
            cached = self._compiled.get(template.content_hash)
            if cached is not None:
                self._compiled.move_to_end(template.content_hash)
                return cached
        compiled = tuple(
            CompiledPart(part.role, jinja, dict(jinja.globals))
            for part in template.parts
            for jinja in (self.environment.from_string(part.source),)
        )
        self._remember(template.content_hash, compiled)
        return compiled

    def _remember(self, content_hash: str, compiled: CompiledParts) -> None:
        with self._lock:
            self._compiled[content_hash] = compiled
            if len(self._compiled) > self._cache_size:
                self._compiled.popitem(last=False)

    def render(
        self, template: ParsedTemplate, arguments: Mapping[str, Any], *, version: int | None = None
    ) -> RenderResult:
        """Render every message part of ``template`` with ``arguments`` (strings or typed values)."""
        started = time.perf_counter()
        values = resolve_arguments(template.spec, arguments, self.limits)
        budget = Budget(self.limits)
        token = current_budget.set(budget)
        try:
            messages = [
                RenderedMessage(part.role, content)
                for part in self.compiled(template)
                if (content := self._render_part(template.name, part, values, budget))
            ]
        finally:
            current_budget.reset(token)
        return RenderResult(
            name=template.name,
            version=version,
            description=template.spec.description,
            messages=messages,
            text="\n\n".join(m.content for m in messages),
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    def _printed(self, part: CompiledPart, values: dict[str, Any]) -> Iterator[str]:
        """What Jinja's code for text and ``{{ name }}`` yields: the text, and each value looked up among the
        arguments then the globals, finalized (``environment.finalize``) and made a string; undefined if neither."""
        finalize = self.environment.finalize
        assert finalize is not None
        for piece in part.pieces:
            if type(piece) is str:
                yield piece
                continue
            assert isinstance(piece, nodes.Name)
            name = piece.name
            if name in values:
                value = values[name]
            elif name in part.globals:
                value = part.globals[name]
            else:
                value = self.environment.undefined(name=name)
            yield str(finalize(value))

    def _render_part(self, name: str, part: CompiledPart, values: dict[str, Any], budget: Budget) -> str:
        limit = self.limits.max_output_bytes
        chunks: list[str] = []
        size = 0
        try:
            template = part.template
            if template is None:
                chunks_out = self._printed(part, values)
            else:
                context = Context(self.environment, {**part.globals, **values}, template.name, {}, globals=part.globals)
                chunks_out = template.root_render_func(context)
            for chunk in chunks_out:
                size += len(chunk)
                if size > limit:
                    raise OutputTooLargeError(
                        f"rendering '{name}' produced more than {limit:,} bytes (PBA_TUNNEL_MAX_OUTPUT_BYTES)"
                    )
                chunks.append(chunk)
            budget.check_time()
        except PbaError:
            raise
        except SecurityError as exc:
            raise SandboxViolationError(f"template '{name}' tried something the sandbox forbids: {exc}") from None
        except UndefinedError as exc:
            raise RenderError(f"template '{name}' used an undefined value: {exc.message}") from None
        except TemplateNotFound as exc:
            raise RenderError(f"template '{name}' includes the unknown partial '{exc.name}'") from None
        except RecursionError:
            raise RecursionLimitError(f"template '{name}' recursed too deeply") from None
        except MemoryError:
            raise OutputTooLargeError(f"template '{name}' ran out of memory while rendering") from None
        except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError, AttributeError) as exc:
            raise RenderError(f"rendering '{name}' failed: {type(exc).__name__}: {exc}") from None
        text = "".join(chunks).strip()
        if len(text.encode("utf-8", errors="surrogatepass")) > limit:
            raise OutputTooLargeError(f"rendering '{name}' produced more than {limit:,} bytes")
        return text


def _pieces(tree: nodes.Template) -> tuple[str | nodes.Name, ...] | None:
    """The text and substituted names of a part made only of those, in order; None for any other part."""
    pieces: list[str | nodes.Name] = []
    for output in tree.body:
        if not isinstance(output, nodes.Output):
            return None
        for child in output.nodes:
            if isinstance(child, nodes.TemplateData):
                pieces.append(child.data)
            elif type(child) is nodes.Name and child.ctx == "load":
                pieces.append(child)
            else:
                return None
    return tuple(pieces)
