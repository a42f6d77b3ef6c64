"""Cheap upper bounds on the size of what an operation will produce, computed before it runs."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, MappingView, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, cast

from ..errors import SandboxViolationError

# A conversion spec of '%' formatting, and a '{…:…}' field whose spec nests another field ('{:{}}').
_PERCENT_SPEC = re.compile(r"%[^a-zA-Z%]*[a-zA-Z%]")
_NESTED_BRACE = re.compile(r"\{[^{}]*:[^{}]*\{")
_BRACE_SPEC = re.compile(r"\{[^{}]*?:([^{}]*)\}")
_DIGITS = re.compile(r"\d+")
_INT_DIGITS_PER_BIT = 0.302  # log10(2)
# A '{…}' field whose name reads an attribute or an item ('{0.x}', '{a[b]}').
_READS_INTO = re.compile(r"\{[^{}:!]*[.\[]")
_PLAIN = (str, int, float, bool, type(None), list, tuple, dict, set, frozenset, bytes)


def _wrapper(container: object) -> int:
    """Extra characters of a container's repr beyond its brackets: 'frozenset(…)', 'dict_items(…)'."""
    kind = type(container)
    return 0 if kind in (list, tuple, dict, set) else len(kind.__name__) + 2


def text_size(value: object, cap: int) -> int:
    """An upper bound of ``len(str(value))``; stops early (returning more than ``cap``) once it passes ``cap``."""
    if isinstance(value, str):
        return len(value)
    total = 0
    stack: list[object] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            # Inside a container a string prints as its repr; printable text only gains quotes and escapes.
            total += len(item) + 2 + item.count("\\") + item.count("'") if item.isprintable() else len(repr(item))
            if type(item) is not str:  # a subclass such as Markup prints as Markup('…')
                total += len(type(item).__name__) + 2
        elif item is None or isinstance(item, bool):
            total += 5
        elif isinstance(item, int):
            total += int(item.bit_length() * _INT_DIGITS_PER_BIT) + 2
        elif isinstance(item, float):
            total += 24
        elif isinstance(item, bytes | bytearray):
            total += 4 * len(item) + 3
        elif isinstance(item, Mapping):
            total += 2 + 4 * len(item) + _wrapper(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, Sequence | AbstractSet | MappingView) and not isinstance(item, range):
            total += 2 + 2 * len(item) + _wrapper(item)
            stack.extend(cast(Iterable[object], item))
        else:  # macros, loop contexts, ranges, generators: their text is short
            total += len(str(item))
        if total > cap:
            return total
    return total


def _widths_from_arguments(arguments: Iterable[object]) -> int:
    """The largest width an argument could supply to a '*' or nested '{}' spec."""
    widest = 0
    for value in arguments:
        if isinstance(value, int) and not isinstance(value, bool):
            widest = max(widest, abs(value))
        elif isinstance(value, str) and value.isdigit():
            widest = max(widest, int(value) if len(value) < 19 else 10**18)
    return widest


def format_size(template: str, arguments: Sequence[object], cap: int, *, style: str) -> int:
    """An upper bound of the length of ``template % arguments`` (style '%') or ``template.format(...)``."""
    fields = template.count("%") if style == "%" else template.count("{")
    if fields == 0:
        return len(template)
    values: list[object] = []
    for argument in arguments:
        values.extend(argument.values() if isinstance(argument, Mapping) else [argument])
    reads_into = _READS_INTO.search(template) if style == "{" else "%(" in template
    if reads_into and not all(isinstance(v, _PLAIN) for v in values):
        # '{0.previtem}' or '%(a)s' % namespace reads a value the estimate cannot see: refuse.
        raise SandboxViolationError(
            "format strings may read attributes and items only of plain values (text, numbers, lists, dicts)"
        )
    # Only '%*d' and '{:{}}' take a width from the arguments.
    star = any("*" in spec for spec in _PERCENT_SPEC.findall(template)) if style == "%" else False
    nested = style == "{" and _NESTED_BRACE.search(template) is not None
    width = _widths_from_arguments(values) if star or nested else 0
    # Widths and precisions written in the template ('%-9999d', '{:>9999}', '%.9999f') pad each field.
    specs = _PERCENT_SPEC.findall(template) if style == "%" else _BRACE_SPEC.findall(template)
    padding = sum(max((int(d) for d in _DIGITS.findall(spec) if len(d) < 19), default=0) for spec in specs)
    # Every field may print the largest argument (named or repeated fields reuse one), padded to a width.
    largest = max((text_size(v, cap) for v in values), default=0)
    return len(template) + padding + fields * (largest + width + 64)  # 64: e.g. the repr of a method


def replace_size(text: str, old: str, new: str, count: int = -1) -> int:
    """The exact length of ``text.replace(old, new, count)``."""
    hits = text.count(old) if old else len(text) + 1
    if count is not None and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * (len(new) - len(old))


def wrap_size(text: str, width: int, wrapstring: str) -> int:
    """An upper bound of the length of ``text`` word-wrapped at ``width`` with ``wrapstring`` between lines."""
    breaks = sum(text.count(c) for c in " \t\n\r\x0b\x0c-")
    lines = min(len(text) + 1, breaks + len(text) // max(width, 1) + 1)
    return len(text) + lines * len(wrapstring)


def translate_size(text: str, table: Mapping[Any, Any]) -> int:
    """An upper bound of the length of ``text.translate(table)``."""
    longest = max((len(v) for v in table.values() if isinstance(v, str)), default=1)
    return len(text) * max(longest, 1)
