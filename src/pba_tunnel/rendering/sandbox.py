"""The sandboxed Jinja2 environment every template is compiled and rendered in.

On top of Jinja's ``ImmutableSandboxedEnvironment`` (no dunder access, no mutation of known containers,
sandboxed ``str.format``) it bounds what a hostile template can spend: loops check a deadline, calls are
depth-counted, repetition and padding are size-checked before they allocate, and the few globals that
are escape vectors (``cycler``, ``joiner``, ``lipsum``) are gone.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NoReturn

from jinja2 import BaseLoader, StrictUndefined, TemplateNotFound, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace

from ..config import Limits
from ..errors import RangeTooLargeError
from .budget import current_budget

ITER_GUARD = "__pba_guard_iter"
_MAX_POWER_BITS = 100_000


def _sized(value: object) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple | dict) else None


class GuardedNamespace(Namespace):
    """``namespace()`` whose attributes cannot grow past the output limit (blocks doubling in loops)."""

    def __setitem__(self, name: str, value: Any) -> None:
        size = _sized(value)
        if size is not None:
            current_budget.get().check_length(size)
        super().__setitem__(name, value)


def _check_str_method(text: str, method: str, args: tuple[Any, ...]) -> None:
    """Check the size a ``str`` method would produce before it allocates."""
    budget = current_budget.get()
    if method in {"center", "ljust", "rjust", "zfill"} and args and isinstance(args[0], int):
        budget.check_length(args[0])
    elif method == "expandtabs":
        width = args[0] if args and isinstance(args[0], int) else 8
        budget.check_length(len(text) + text.count("\t") * width)
    elif method == "replace" and len(args) >= 2 and isinstance(args[1], str):
        budget.check_length((len(text) + 1) * max(len(args[1]), 1))
    elif method == "join" and args:
        size = _sized(args[0])
        if size is not None:
            budget.check_length(len(text) * size)


class PartialLoader(BaseLoader):
    """Loads ``_partials/…`` sources through a lookup function supplied by the caller (the store)."""

    def __init__(self, lookup: Callable[[str], str | None]) -> None:
        self._lookup = lookup

    def get_source(self, environment: Any, template: str) -> tuple[str, str | None, Callable[[], bool]]:  # noqa: ARG002
        source = self._lookup(template)
        if source is None:
            raise TemplateNotFound(template)
        return source, None, lambda: self._lookup(template) == source


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox with resource bounds; see the module docstring."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, limits: Limits, partials: Callable[[str], str | None] | None = None) -> None:
        super().__init__(
            undefined=StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            finalize=_none_as_empty,
            loader=PartialLoader(partials or (lambda _name: None)),
            cache_size=1000,
        )
        self.limits = limits
        for unsafe in ("cycler", "joiner", "lipsum"):
            self.globals.pop(unsafe, None)
        self.globals.update(range=self._bounded_range, namespace=GuardedNamespace, **{ITER_GUARD: _guard_iter})
        self.filters = {name: _guard_filter(name, fn) for name, fn in self.filters.items()}

    # Jinja calls _parse for every source it compiles (templates and included partials); wrapping loop
    # iterables here puts a deadline check inside every {% for %} without touching Jinja's code generator.
    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Call(nodes.Name(ITER_GUARD, "load"), [loop.iter], [], None, None, lineno=loop.iter.lineno)
        return tree

    def _bounded_range(self, *args: int) -> range:
        result = range(*args)
        if len(result) > self.limits.max_range:
            raise RangeTooLargeError(
                f"range() of {len(result):,} items exceeds the limit of {self.limits.max_range:,} "
                "(PBA_TUNNEL_MAX_RANGE)"
            )
        return result

    def unsafe_undefined(self, obj: Any, attribute: str) -> NoReturn:
        # Refuse at once: Jinja returns an Undefined here, which a chained |attr swallows, so the escape
        # attempt would surface as a misleading "undefined value" error instead of a sandbox violation.
        raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe.")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            current_budget.get().check_format_string(value.__self__, style="{")
        return wrapped

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = current_budget.get()
        budget.check_time()
        for value in (*args, *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool):
                budget.check_count(abs(value), "a numeric argument")
        if isinstance(getattr(__obj, "__self__", None), str):
            _check_str_method(__obj.__self__, __obj.__name__, args)
        budget.enter_call()
        try:
            result = super().call(__context, __obj, *args, **kwargs)
        finally:
            budget.depth -= 1
        size = _sized(result)
        if size is not None:
            budget.check_length(size)
        return result

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget = current_budget.get()
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                size = _sized(seq)
                if size is not None and isinstance(count, int):
                    budget.check_length(size * count)
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
            # Bits of the result; 10**(10**8) would take minutes of CPU inside one C call.
            if right * math.log2(abs(left)) > _MAX_POWER_BITS:
                raise RangeTooLargeError(f"{left} ** {right} is larger than the sandbox allows")
        elif operator == "%" and isinstance(left, str):
            budget.check_format_string(left)
        return super().call_binop(context, operator, left, right)


def _none_as_empty(value: Any) -> Any:
    # An optional argument without a default is None; it should print as nothing, not "None".
    return "" if value is None else value


def _guard_iter(iterable: Iterable[Any]) -> Iterator[Any]:
    return current_budget.get().guard_iteration(iterable)


def _guard_filter(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a built-in filter: deadline check, bounded numeric arguments, bounded result."""
    passed = getattr(fn, "jinja_pass_arg", None)

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        budget = current_budget.get()
        budget.check_time()
        values = args[1:] if passed is not None else args
        for value in (*values[1:], *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool):
                budget.check_count(abs(value), f"the '{name}' filter's argument")
        if name == "format" and values and isinstance(values[0], str):
            budget.check_format_string(values[0])
        if name in {"indent", "center"} and values and isinstance(values[0], str):
            width = next((v for v in values[1:] if isinstance(v, int)), 4)
            budget.check_length(len(values[0]) + (values[0].count("\n") + 1) * width)
        if name == "join" and len(values) > 1 and isinstance(values[1], str):
            size = _sized(values[0])
            if size is not None:
                budget.check_length(size * len(values[1]))
        result = fn(*args, **kwargs)
        size = _sized(result)
        if size is not None:
            budget.check_length(size)
        return result

    if passed is not None:
        guarded.jinja_pass_arg = passed  # type: ignore[attr-defined]
    return guarded


__all__ = ["BoundedSandbox", "GuardedNamespace"]
