"""Plain, shallow bodies skip the compile that validation otherwise tries: it must never have failed for them."""

from __future__ import annotations

import jinja2
import pytest

from pba_tunnel.config import Limits
from pba_tunnel.errors import InvalidTemplateError
from pba_tunnel.rendering.sandbox import BoundedSandbox
from pba_tunnel.templates.variables import PLAIN_DEPTH, PLAIN_LOOPS, compiles_without_trying, parse_body


def nested_ifs(depth: int) -> str:
    return "{% if a %}" * depth + "x" + "{% endif %}" * depth


def nested_loops(loops: int, inner: str) -> str:
    opening = "".join(f"{{% for i{n} in items %}}" for n in range(loops))
    return opening + inner + "{% endfor %}" * loops


def nested_expression(depth: int) -> str:
    return "{{ " + "(" * depth + "a" + " + 1)" * depth + "|upper }}"


# The deepest plain bodies: each is as deep as the check lets through, in the ways that nest generated code.
EDGES = {
    "ifs": nested_ifs(PLAIN_DEPTH - 3),  # below the template, its output and text
    "expression": nested_expression(PLAIN_DEPTH - 4),
    "loops-then-ifs": nested_loops(PLAIN_LOOPS, nested_ifs(PLAIN_DEPTH - PLAIN_LOOPS - 3)),
    "loops-then-expression": nested_loops(PLAIN_LOOPS, nested_expression(PLAIN_DEPTH - PLAIN_LOOPS - 4)),
    "calls-and-filters": "{{ " + "x.y(" * 10 + "1" + ")" * 10 + "|join(', ')|default('')|trim }}",
}


@pytest.mark.parametrize("body", EDGES.values(), ids=EDGES.keys())
def test_the_deepest_plain_bodies_compile_in_both_environments(body: str) -> None:
    tree = parse_body(body, path="edge.md", line=1)
    assert compiles_without_trying(tree)
    BoundedSandbox(Limits()).from_string(body)  # what a render compiles; it must not fail either


NOT_PLAIN = {
    "one-if-too-deep": nested_ifs(PLAIN_DEPTH - 2),
    "one-loop-too-many": nested_loops(PLAIN_LOOPS + 1, "x"),
    "macro": "{% macro m() %}x{% endmacro %}{{ m() }}",
    "block": "{% block b %}x{% endblock %}",
    "assigning-loop": "{% for loop in items %}x{% endfor %}",
    "huge-integer": "{{ 0x" + "f" * 100 + " }}",
}


@pytest.mark.parametrize("body", NOT_PLAIN.values(), ids=NOT_PLAIN.keys())
def test_other_bodies_are_still_compiled_to_validate_them(body: str) -> None:
    assert not compiles_without_trying(jinja2.Environment().parse(body))


def test_assigning_to_loop_and_an_unknown_filter_are_still_syntax_errors_with_their_line() -> None:
    with pytest.raises(InvalidTemplateError) as caught:
        parse_body("Hello\n{% for loop in items %}x{% endfor %}", path="edge.md", line=5)
    assert (caught.value.code, caught.value.line) == ("invalid_template", 6)
    with pytest.raises(InvalidTemplateError) as caught:
        parse_body("Hello\n{{ who|shout }}", path="edge.md", line=5)
    assert (caught.value.code, caught.value.line) == ("invalid_template", 6)
    assert "shout" in caught.value.message
