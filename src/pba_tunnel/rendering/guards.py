"""Size checks that run before a filter or a ``str`` method allocates, and the few filters we replace.

Each check estimates the result (see ``sizes``) and raises the budget's error before the operation runs;
an operation no check can bound is refused.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from typing import Any

from jinja2 import pass_environment
from jinja2.sandbox import SandboxedEnvironment

from ..errors import RangeTooLargeError, SandboxViolationError
from .budget import Budget, current_budget
from .sizes import format_size, replace_size, text_size, translate_size, wrap_size

# Filters that walk their whole input in Python: a generator input is materialised (bounded) first,
# and any input is limited to max_range items.
_WALKING = frozenset(
    {
        "batch", "dictsort", "groupby", "items", "join", "list", "map", "max", "min", "reject", "rejectattr",
        "select", "selectattr", "slice", "sort", "sum", "unique", "xmlattr",
    }
)  # fmt: skip
# Filters doing per-word work in Python (about 2 µs a character): their text is limited to max_range characters.
_WORDY = frozenset({"wordwrap", "urlize"})


def _text(value: object, budget: Budget) -> str:
    """``str(value)`` once its estimated size is within the output limit."""
    if not isinstance(value, str):
        budget.check_length(text_size(value, budget.limits.max_output_bytes))
    return str(value)


def _prepare_filter_input(name: str, values: list[Any], budget: Budget) -> None:
    """Bound the first argument (the filtered value) of a walking or wordy filter, in place."""
    if not values:
        return
    first = values[0]
    if name == "join" and isinstance(first, Iterator):
        values[0] = _materialize_joined(first, len(str(values[1] if len(values) > 1 else "")), budget)
    elif name in _WALKING:
        if isinstance(first, Iterator):
            values[0] = budget.materialize(first)
        elif isinstance(first, Sized) and len(first) > budget.limits.max_range:
            budget.check_items(len(first))
    elif name in _WORDY and isinstance(first, str) and len(first) > budget.limits.max_range:
        raise RangeTooLargeError(
            f"the '{name}' filter takes at most {budget.limits.max_range:,} characters (PBA_TUNNEL_MAX_RANGE)"
        )


def _materialize_joined(items: Iterator[Any], separator: int, budget: Budget) -> list[Any]:
    """The items a join would join, stopping as soon as their text would pass the output limit."""
    cap = budget.limits.max_output_bytes
    total = 0
    result: list[Any] = []
    for item in budget.guard_iteration(items):
        total += text_size(item, cap) + separator
        if total > cap:
            budget.check_length(total)
        if len(result) >= budget.limits.max_range:
            budget.check_items(len(result) + 1)
        result.append(item)
    return result


def _arg(values: list[Any], kwargs: dict[str, Any], index: int, name: str, default: Any) -> Any:
    if name in kwargs:
        return kwargs[name]
    return values[index] if len(values) > index else default


def check_filter(name: str, values: list[Any], kwargs: dict[str, Any], budget: Budget) -> None:
    """Estimate what filter ``name`` would produce from ``values`` (its arguments after any context)."""
    _prepare_filter_input(name, values, budget)
    if not values:
        return
    cap = budget.limits.max_output_bytes
    first = values[0]
    if name == "join":
        separator = str(_arg(values, kwargs, 1, "d", ""))
        count = len(first) if isinstance(first, Sized) else 0
        budget.check_length(text_size(first, cap) + count * len(separator))
    elif name == "replace" and isinstance(first, str):
        old, new = _arg(values, kwargs, 1, "old", ""), _arg(values, kwargs, 2, "new", "")
        count = _arg(values, kwargs, 3, "count", None)
        budget.check_length(replace_size(first, str(old), _text(new, budget), count if isinstance(count, int) else -1))
    elif name == "indent":
        width = _arg(values, kwargs, 1, "width", 4)
        pad = width if isinstance(width, int) else len(_text(width, budget))
        text = _text(first, budget)
        budget.check_length(len(text) + (text.count("\n") + 1) * max(pad, 0))
    elif name == "wordwrap":
        width = _arg(values, kwargs, 1, "width", 79)
        wrapstring = _arg(values, kwargs, 3, "wrapstring", None) or "\n"
        budget.check_length(wrap_size(_text(first, budget), width if isinstance(width, int) else 1, str(wrapstring)))
    elif name == "center":
        width = _arg(values, kwargs, 1, "width", 80)
        budget.check_length(max(text_size(first, cap), width if isinstance(width, int) else 0))
    elif name == "format" and isinstance(first, str):
        budget.check_format_string(first)
        budget.check_length(format_size(first, [*values[1:], kwargs], cap, style="%"))
    elif name in {"batch", "slice"}:
        count = _arg(values, kwargs, 1, "linecount" if name == "batch" else "slices", 1)
        if isinstance(count, int):
            budget.check_items(count)
    elif name in {"string", "tojson", "pprint", "e", "escape", "forceescape", "urlencode", "title", "upper"}:
        budget.check_length(text_size(first, cap))
        if name == "pprint" and text_size(first, cap) > budget.limits.max_range:
            raise RangeTooLargeError(
                f"the 'pprint' filter takes values of at most {budget.limits.max_range:,} characters"
            )


def _split_parts(text: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """An upper bound of the number of parts ``split``/``rsplit``/``splitlines`` would return."""
    if method == "splitlines":
        return sum(text.count(c) for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029") + 1
    separator = kwargs.get("sep", args[0] if args else None)
    limit = kwargs.get("maxsplit", args[1] if len(args) > 1 else -1)
    if isinstance(separator, str) and separator:
        parts = text.count(separator) + 1
    else:  # ASCII whitespace; a result split on other (Unicode) spaces is still checked afterwards
        parts = sum(text.count(c) for c in " \t\n\r\x0b\x0c") + 1
    return min(parts, limit + 1) if isinstance(limit, int) and limit >= 0 else parts


def check_str_method(
    text: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], budget: Budget
) -> tuple[Any, ...]:
    """Check the size a ``str`` method would produce before it allocates; returns the (bounded) arguments."""
    if method in {"split", "rsplit", "splitlines"}:
        budget.check_items(_split_parts(text, method, args, kwargs))
    elif method in {"center", "ljust", "rjust", "zfill"} and args and isinstance(args[0], int):
        budget.check_length(max(args[0], len(text)))
    elif method == "expandtabs":
        width = args[0] if args and isinstance(args[0], int) else 8
        budget.check_length(len(text) + text.count("\t") * max(width, 0))
    elif method == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        count = args[2] if len(args) > 2 and isinstance(args[2], int) else -1
        budget.check_length(replace_size(text, args[0], args[1], count))
    elif method == "join" and args:
        items = args[0] if isinstance(args[0], Sized) else budget.materialize(args[0])
        budget.check_items(len(items))
        budget.check_length(text_size(items, budget.limits.max_output_bytes) + len(text) * len(items))
        return (items, *args[1:])
    elif method == "translate" and args:
        if not isinstance(args[0], Mapping):
            raise SandboxViolationError("str.translate takes only a mapping (e.g. from str.maketrans) in templates")
        budget.check_items(len(args[0]))
        budget.check_length(translate_size(text, args[0]))
    elif method in {"encode", "upper", "lower", "casefold", "title", "swapcase", "capitalize"}:
        # ASCII keeps its length; other characters can case-map to three, and encode to up to four bytes.
        budget.check_length(len(text) if text.isascii() else 3 * len(text))
    return args


def check_maketrans(args: tuple[Any, ...], budget: Budget) -> None:
    """``str.maketrans`` builds a dict of one entry per character: bound its inputs."""
    for value in args:
        if isinstance(value, str | Mapping):
            budget.check_items(len(value))


def bounded_format(budget: Budget, template: str, format_call: Callable[..., str]) -> Callable[..., str]:
    """Wrap the sandbox's ``str.format``/``format_map`` so the result size is estimated before formatting."""
    budget.check_format_string(template, style="{")

    @functools.wraps(format_call)
    def checked(*args: Any, **kwargs: Any) -> str:
        budget.check_length(format_size(template, [*args, kwargs], budget.limits.max_output_bytes, style="{"))
        return format_call(*args, **kwargs)

    return checked


def _attribute_getter(environment: SandboxedEnvironment, attribute: str | int | None) -> Callable[[Any], Any]:
    if attribute is None:
        return lambda item: item
    parts = [int(p) if p.isdigit() else p for p in attribute.split(".")] if isinstance(attribute, str) else [attribute]

    def get(item: Any) -> Any:
        for part in parts:
            item = environment.getitem(item, part)
        return item

    return get


@pass_environment
def bounded_sum(
    environment: SandboxedEnvironment, iterable: Iterable[Any], attribute: str | int | None = None, start: Any = 0
) -> Any:
    """``|sum`` where a list or string start (``sum(start=[])``) adds item by item through the size checks."""
    budget = current_budget.get()
    get = _attribute_getter(environment, attribute)
    if isinstance(start, int | float) and not isinstance(start, bool):
        total: Any = start
        for item in budget.guard_iteration(iterable):
            total = total + get(item)
            if isinstance(total, int):
                budget.check_bits(total.bit_length())
        return total
    total = start
    for item in budget.guard_iteration(iterable):
        value = get(item)
        check_addition(total, value, budget)
        total = total + value
    return total


def check_addition(left: Any, right: Any, budget: Budget) -> None:
    """Bound ``left + right`` (strings, lists, tuples, integers) before it is computed."""
    if isinstance(left, str) and isinstance(right, str):
        budget.check_length(len(left) + len(right))
    elif isinstance(left, list | tuple) and isinstance(right, list | tuple):
        budget.check_items(len(left) + len(right))
    elif isinstance(left, int) and isinstance(right, int):
        bits = max(left.bit_length(), right.bit_length())
        if bits >= budget.limits.max_integer_bits:
            budget.check_bits(bits + 1)
