"""The sandboxed Jinja2 environment every template is compiled and rendered in.

On top of Jinja's ``ImmutableSandboxedEnvironment`` (no dunder access, no mutation of known containers,
sandboxed ``str.format``) it bounds what a hostile template can spend: loops check a deadline, calls are
depth-counted, operators, filters and ``str`` methods that amplify have their result size estimated before
they run (``guards``), integers are width-capped, everything a render creates is charged to one total
(``Budget.charge``), partials are counted, and the few globals that are escape vectors (``cycler``,
``joiner``, ``lipsum``) are gone.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any, NoReturn, cast

from jinja2 import BaseLoader, StrictUndefined, Template, TemplateNotFound, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace

from ..config import Limits
from ..errors import RangeTooLargeError
from .budget import current_budget
from .guards import (
    bounded_format,
    bounded_sum,
    check_addition,
    check_filter,
    check_maketrans,
    check_str_method,
)
from .sizes import format_size, text_size

ITER_GUARD = "__pba_guard_iter"
CONCAT_GUARD = "__pba_concat"
SHORT_OUTPUT = 64  # printed strings up to this length are charged per loop iteration, not one by one


class GuardedNamespace(Namespace):
    """``namespace()`` whose attributes cannot grow past the limits (blocks doubling in loops)."""

    def __setitem__(self, name: str, value: Any) -> None:
        current_budget.get().check_value(value)
        super().__setitem__(name, value)

    def __repr__(self) -> str:
        # Jinja's repr lists every attribute: printing a namespace must not copy all it holds.
        return "<Namespace>"


class PartialLoader(BaseLoader):
    """Loads ``_partials/…`` sources through a lookup function supplied by the caller (the store)."""

    def __init__(self, lookup: Callable[[str], str | None]) -> None:
        self._lookup = lookup

    def get_source(self, environment: Any, template: str) -> tuple[str, str | None, Callable[[], bool]]:  # noqa: ARG002
        source = self._lookup(template)
        if source is None:
            raise TemplateNotFound(template)
        return source, None, lambda: self._lookup(template) == source


def _unchecked_output(node: nodes.Node) -> int:
    """What running ``node`` once (a loop iteration, a partial) may add to a buffer without other checks:
    its literal text, and a short printed value per ``{{ … }}``."""
    literal = sum(len(data.data) for data in node.find_all(nodes.TemplateData))
    printed = sum(
        1
        for output in node.find_all(nodes.Output)
        for child in output.nodes
        if not isinstance(child, nodes.TemplateData)
    )
    return literal + printed * SHORT_OUTPUT


def _guard_call(name: str, args: list[nodes.Expr], lineno: int) -> nodes.Call:
    return nodes.Call(nodes.Name(name, "load", lineno=lineno), args, [], None, None, lineno=lineno)


def _rewrite(node: nodes.Node) -> nodes.Node:
    """Route every ``~`` through the size-checked concatenation and every loop through the iteration guard."""
    for field, value in node.iter_fields():
        if isinstance(value, list):
            setattr(node, field, [_rewrite(v) if isinstance(v, nodes.Node) else v for v in value])
        elif isinstance(value, nodes.Node):
            setattr(node, field, _rewrite(value))
    if isinstance(node, nodes.For):
        size = nodes.Const(_unchecked_output(node), lineno=node.lineno)
        node.iter = _guard_call(ITER_GUARD, [cast(nodes.Expr, node.iter), size], node.iter.lineno)
    elif isinstance(node, nodes.Concat) and not all(isinstance(n, nodes.Const) for n in node.nodes):
        return _guard_call(CONCAT_GUARD, list(node.nodes), node.lineno)
    return node


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox with resource bounds; see the module docstring."""

    intercepted_binops = frozenset({"*", "**", "%", "+", "-"})

    def __init__(self, limits: Limits, partials: Callable[[str], str | None] | None = None) -> None:
        super().__init__(
            undefined=StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            finalize=_finalize,
            loader=PartialLoader(partials or (lambda _name: None)),
            cache_size=1000,
        )
        self.limits = limits
        self._output_costs: dict[str, int] = {}
        for unsafe in ("cycler", "joiner", "lipsum"):
            self.globals.pop(unsafe, None)
        self.globals.update(
            range=self._bounded_range,
            namespace=GuardedNamespace,
            **{ITER_GUARD: _guard_iter, CONCAT_GUARD: _concat},
        )
        self.filters = {name: _guard_filter(name, fn) for name, fn in {**self.filters, "sum": bounded_sum}.items()}

    # Jinja calls _parse for every source it compiles (templates and included partials); rewriting the tree
    # here puts the guards into the generated code without touching Jinja's code generator.
    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        _rewrite(tree)
        if name is not None:
            self._output_costs[name] = _unchecked_output(tree)
        tree.set_environment(self)
        return tree

    # Includes and imports load their partial through here while a render runs: count it and charge what
    # it prints without other checks, which a macro or {% set %} block would collect.
    def get_template(
        self, name: str | Template, parent: str | None = None, globals: MutableMapping[str, Any] | None = None
    ) -> Template:
        template = super().get_template(name, parent, globals)
        budget = current_budget.get(None)
        if budget is not None and isinstance(name, str):
            budget.enter_partial(self._output_costs.get(name, 0))
        return template

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
        if wrapped is None:
            return None
        return bounded_format(current_budget.get(), value.__self__, wrapped)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = current_budget.get()
        budget.check_time()
        for value in (*args, *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool):
                budget.check_count(abs(value), "a numeric argument")
        if isinstance(getattr(__obj, "__self__", None), str):
            args = check_str_method(__obj.__self__, __obj.__name__, args, kwargs, budget)
        elif __obj is str.maketrans:
            check_maketrans(args, budget)
        budget.enter_call()
        try:
            result = super().call(__context, __obj, *args, **kwargs)
        finally:
            budget.depth -= 1
        budget.check_value(result)
        return result

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget = current_budget.get()
        if operator == "+":
            check_addition(left, right, budget)
        elif operator == "-" and isinstance(left, int) and isinstance(right, int):
            check_addition(left, right, budget)  # the same widths as an addition
        elif operator == "*":
            if isinstance(left, int) and isinstance(right, int):
                budget.check_bits(left.bit_length() + right.bit_length())
            for seq, count in ((left, right), (right, left)):
                if isinstance(count, int) and isinstance(seq, str | list | tuple):
                    if isinstance(seq, str):
                        budget.check_length(len(seq) * count)
                    else:
                        budget.check_items(len(seq) * count)
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
            # Bits of the result; 10**(10**8) would take minutes of CPU inside one C call.
            budget.check_bits(right * math.log2(abs(left)))
        elif operator == "%" and isinstance(left, str):
            budget.check_format_string(left)
            arguments = list(right) if isinstance(right, tuple) else [right]
            budget.check_length(format_size(left, arguments, budget.limits.max_output_bytes, style="%"))
        return super().call_binop(context, operator, left, right)


def _finalize(value: Any) -> Any:
    # Every printed value is charged: inside a macro or {% set %} block it is collected, not streamed out.
    # Short strings are charged in advance by the loop guard (SHORT_OUTPUT per {{ }} per iteration), which
    # keeps this function, run for every {{ … }} of every render, to a type check and a length check.
    kind = value.__class__
    if kind is str:
        if len(value) > SHORT_OUTPUT:
            current_budget.get().charge(len(value))
        return value
    if kind is int or kind is float or kind is bool:
        return value  # integers are bounded by max_integer_bits, and print at most 4,300 digits
    # An optional argument without a default is None; it should print as nothing, not "None".
    if value is None:
        return ""
    budget = current_budget.get()
    budget.check_length(text_size(value, budget.limits.max_output_bytes))
    return value


def _concat(*values: Any) -> str:
    """``a ~ b ~ …`` with the joined length checked before any piece is converted."""
    budget = current_budget.get()
    cap = budget.limits.max_output_bytes
    total = 0
    for value in values:
        total += text_size(value, cap)
        if total > cap:
            break
    budget.check_length(total)
    return "".join([v if isinstance(v, str) else str(v) for v in values])


def _guard_iter(iterable: Iterable[Any], body_size: int = 0) -> Iterator[Any]:
    return current_budget.get().guard_iteration(iterable, body_size)


def _guard_filter(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a built-in filter: deadline check, bounded numeric arguments, estimated and bounded result."""
    passed = getattr(fn, "jinja_pass_arg", None)

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        budget = current_budget.get()
        budget.check_time()
        values = list(args[1:] if passed is not None else args)
        for value in (*values[1:], *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool):
                budget.check_count(abs(value), f"the '{name}' filter's argument")
        check_filter(name, values, kwargs, budget)
        result = fn(*args[:1], *values, **kwargs) if passed is not None else fn(*values, **kwargs)
        budget.check_value(result)
        return result

    if passed is not None:
        guarded.jinja_pass_arg = passed  # type: ignore[attr-defined]
    return guarded


__all__ = ["BoundedSandbox", "GuardedNamespace"]
