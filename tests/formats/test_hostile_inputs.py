"""Hostile text in other formats costs linear time: lines built to make a regular expression backtrack, tens
of thousands of unclosed tags, long runs of whitespace inside a variable."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import pytest

from pba_tunnel.errors import ConversionError
from pba_tunnel.formats.handlebars import to_jinja
from pba_tunnel.formats.langfuse import References
from pba_tunnel.formats.langfuse import to_jinja as langfuse_to_jinja
from pba_tunnel.formats.losses import Conversion
from pba_tunnel.formats.prompty import import_prompty

LIMIT = 100 * 1024


def _prompty(text: str) -> object:
    return import_prompty(text, "x.prompty", "x", LIMIT)


CASES: dict[str, Callable[[], object]] = {
    "prompty role marker with endless attributes": lambda: _prompty(
        "---\nname: x\n---\nuser[" + "a=b " * 20_000 + "x\n"
    ),
    "handlebars unclosed tags": lambda: to_jinja("{{#if a}}" + "{{" * 40_000, lambda _: None),
    "handlebars unclosed comments": lambda: to_jinja("{{!-- " * 15_000, lambda _: None),
    "langfuse variable full of spaces": lambda: langfuse_to_jinja(
        "{{" + " " * 50_000 + "x" + "{{ " * 15_000, Conversion("x", "x"), References([]), []
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_text_converts_in_linear_time(case: str) -> None:
    started = time.perf_counter()
    with contextlib.suppress(ConversionError):  # a refusal is fine: only the time matters here
        CASES[case]()
    assert time.perf_counter() - started < 2
