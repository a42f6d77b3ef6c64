"""Analysing a template's variables parses and compiles it, and never evaluates what the template wrote."""

from __future__ import annotations

import time

import pytest

from pba_tunnel.errors import InvalidTemplateError
from pba_tunnel.templates import parse_template


@pytest.mark.parametrize(
    "body",
    ["{{ 10 ** 100000000 }}", '{{ "x"|center(1000000000) }}', '{{ "x" * 1000000000 }}', '{{ "%0999999999d" % 1 }}'],
)
def test_constant_bombs_are_not_computed_while_parsing(body: str) -> None:
    started = time.perf_counter()
    parsed = parse_template(f"---\ndescription: d\n---\n{body}\n", default_name="bomb")
    assert parsed.name == "bomb"
    assert time.perf_counter() - started < 1.0


def test_an_unknown_filter_is_an_invalid_template() -> None:
    with pytest.raises(InvalidTemplateError) as caught:
        parse_template("---\ndescription: d\n---\n{{ 'x'|nosuch }}\n", path="f.md", default_name="f")
    assert caught.value.code == "invalid_template"
    assert caught.value.line == 4
