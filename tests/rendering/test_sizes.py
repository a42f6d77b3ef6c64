"""The size estimates are upper bounds of what the operation really produces (else a check would let an
allocation through), and stay close enough that ordinary values pass."""

from __future__ import annotations

import textwrap
from collections import OrderedDict
from typing import Any

import pytest
from markupsafe import Markup

from pba_tunnel.rendering.sizes import format_size, replace_size, text_size, translate_size, wrap_size

CAP = 10**9
VALUES: list[Any] = [
    "plain",
    "",
    'quote\'s "both" and \\ backslash',
    "new\nline\ttab\x00nul\u200b\U0001f600",
    12345678901234567890,
    -(2**200),
    3.141592653589793e-300,
    True,
    None,
    [1, "a", ["b", None], {"k": "v\n"}],
    ("t", 1),
    {"a": [1, 2], 3: {"x"}},
    {"s", "é"},
    b"\x00\xff",
    {"k": 1}.items(),
    frozenset({"f"}),
    [Markup("<b>"), Markup("x")],
    OrderedDict(a=[1]),
    [[[]]],
]


@pytest.mark.parametrize("value", VALUES, ids=[type(v).__name__ + str(i) for i, v in enumerate(VALUES)])
def test_text_size_is_an_upper_bound_of_the_printed_length(value: Any) -> None:
    assert text_size(value, CAP) >= len(str(value))


def test_text_size_stops_early_past_the_cap() -> None:
    shared = "x" * 1_000_000
    assert text_size([shared] * 100_000, 5_000_000) <= 5_000_000 + 1_000_010


@pytest.mark.parametrize(
    ("template", "arguments"),
    [
        ("%s and %r", ("a", "b\n")),
        ("%-10s|%05d|%.3f", ("x", 42, 3.14159)),
        ("%*s", (12, "x")),
        ("%(a)s %(a)s", ({"a": "long value"},)),
        ("%%s", ()),
    ],
)
def test_percent_format_size_is_an_upper_bound(template: str, arguments: tuple[Any, ...]) -> None:
    right = arguments[0] if len(arguments) == 1 and isinstance(arguments[0], dict) else arguments
    assert format_size(template, list(arguments), CAP, style="%") >= len(template % right)


@pytest.mark.parametrize(
    ("template", "arguments", "named"),
    [
        ("{} {}", ("a", [1, 2]), {}),
        ("{0}{0}{0}", ("abc",), {}),
        ("{:>12}|{:{}}", ("x", "y", 7), {}),
        ("{:{}}", ("x", "30"), {}),
        ("{name!r:^20}", (), {"name": "n\n"}),
        ("{:.5f}", (2.5,), {}),
    ],
)
def test_brace_format_size_is_an_upper_bound(template: str, arguments: tuple[Any, ...], named: dict[str, Any]) -> None:
    assert format_size(template, [*arguments, named], CAP, style="{") >= len(template.format(*arguments, **named))


@pytest.mark.parametrize(
    ("text", "old", "new", "count"),
    [("aaa", "a", "bb", -1), ("aaa", "", "-", -1), ("abcabc", "bc", "", 1), ("x", "y", "zz", -1)],
)
def test_replace_size_is_exact(text: str, old: str, new: str, count: int) -> None:
    assert replace_size(text, old, new, count) == len(text.replace(old, new, count))


@pytest.mark.parametrize(
    ("text", "width"), [("a b c d", 1), ("word " * 50, 7), ("averyveryverylongword and-hyphens", 3), ("", 5)]
)
def test_wrap_size_is_an_upper_bound(text: str, width: int) -> None:
    wrapped = "<br>".join(textwrap.wrap(text, width))
    assert wrap_size(text, width, "<br>") >= len(wrapped)


def test_translate_size_is_an_upper_bound() -> None:
    table = str.maketrans({"a": "xyz", "b": None, "c": 100})
    assert translate_size("aabbcc", table) >= len("aabbcc".translate(table))
