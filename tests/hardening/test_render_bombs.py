"""Renders that would amplify memory or run long inside one operation are refused before they allocate,
each with its own error, in under 2 s and 256 MB, and the process renders normally afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hardening_support import HostileRunner, assert_bounded, template


@pytest.fixture(scope="module")
def hostile_runner() -> Iterator[HostileRunner]:
    """One child process per module runs the hostile cases (each in a fresh fork). Not a conftest.py:
    tests elsewhere import the top-level conftest by name, which a second conftest module would shadow."""
    runner = HostileRunner()
    yield runner
    runner.close()


BIG = "{% set big = 'x' * 100000 %}"
MANY_BIG = "{% set many = ['x' * 100000] * 1000 %}"

BOMBS: dict[str, tuple[str, str]] = {
    # integers: repeated squaring and huge powers stop at max_integer_bits
    "int-squaring": ("{% set a = 7 %}" + "{% set a = a * a %}" * 14 + "{{ a }}", "number_too_large"),
    "int-squaring-loop": (
        "{% set ns = namespace(a=7) %}{% for i in range(40) %}{% set ns.a = ns.a * ns.a %}{% endfor %}",
        "number_too_large",
    ),
    "int-power": ("{{ 10 ** 100000000 }}", "number_too_large"),
    "int-power-chain": ("{{ (2 ** 10000) ** 10 }}", "number_too_large"),
    "int-subtraction-doubling": (
        "{% set ns = namespace(a=1) %}{% for i in range(20000) %}{% set ns.a = ns.a - (0 - ns.a) %}{% endfor %}",
        "number_too_large",
    ),
    "int-from-binary-text": ("{{ ('1' * 100000)|int(base=2) }}", "number_too_large"),
    "int-sum": ("{% set a = 2 ** 16383 %}{{ [a, a, a]|sum }}", "number_too_large"),
    # concatenation
    "concat-chain": (BIG + "{{ big ~ big ~ big ~ big ~ big ~ big ~ big ~ big ~ big ~ big ~ big }}", "output_too_large"),
    "plus-chain": (BIG + "{{ big + big + big + big + big + big + big + big + big + big + big }}", "output_too_large"),
    "list-plus": ("{% set l = [0] * 60000 %}{{ (l + l)|length }}", "range_too_large"),
    "concat-huge-list": (MANY_BIG + "{{ 'x' ~ many }}", "output_too_large"),
    # repetition
    "repeat": ("{{ 'x' * 10**8 }}", "output_too_large"),
    "list-repeat": ("{{ [0] * 10**6 }}", "range_too_large"),
    # formatting with widths or repeated fields
    "percent-star": ("{{ '%*s' % (999999999, 'x') }}", "output_too_large"),
    "percent-width": ("{{ '%999999999d' % 1 }}", "range_too_large"),
    "percent-repeat": (BIG + "{{ ('%(a)s' * 100) % {'a': big} }}", "output_too_large"),
    "format-nested-width": ("{{ '{:{}}'.format('x', '999999999') }}", "output_too_large"),
    "format-repeat": (BIG + "{{ ('{0}' * 100).format(big) }}", "output_too_large"),
    "format-map": (BIG + "{{ ('{a}' * 100).format_map({'a': big}) }}", "output_too_large"),
    "format-filter": (BIG + "{{ ('%s' * 100)|format(big) }}", "output_too_large"),
    # filters
    "join-items": (MANY_BIG + "{{ many|join }}", "output_too_large"),
    "join-separator": ("{{ range(100000)|join('x' * 100) }}", "output_too_large"),
    "join-generator": ("{{ range(100000)|map('string')|join('x' * 100) }}", "output_too_large"),
    "str-join": (MANY_BIG + "{{ ''.join(many) }}", "output_too_large"),
    "replace": ("{{ ('a' * 1000)|replace('a', 'b' * 100000) }}", "output_too_large"),
    "replace-method": ("{{ ('a' * 1000).replace('a', 'b' * 100000) }}", "output_too_large"),
    "indent-string-width": ("{{ ('a\\n' * 1000)|indent('x' * 100000) }}", "output_too_large"),
    "indent-width": ("{{ 'a\\nb\\nc'|indent(1000000) }}", "output_too_large"),
    "wordwrap-wrapstring": ("{{ ('a ' * 1000)|wordwrap(1, wrapstring='x' * 100000) }}", "output_too_large"),
    "wordwrap-long-text": ("{{ ('word ' * 200000)|wordwrap(1) }}", "range_too_large"),
    "center": ("{{ 'x'|center(2000000) }}", "range_too_large"),
    "sum-start-list": ("{{ range(3000)|map('string')|map('list')|sum(start=[])|length }}", "render_memory_exceeded"),
    "string-of-list": (MANY_BIG + "{{ many|string }}", "output_too_large"),
    "print-list": (MANY_BIG + "{{ many }}", "output_too_large"),
    "tojson": (MANY_BIG + "{{ many|tojson }}", "output_too_large"),
    "pprint": ("{% set l = ['x' * 1000] * 1000 %}{{ l|pprint }}", "range_too_large"),
    "batch": ("{{ [1]|batch(999999, 0)|list|length }}", "range_too_large"),
    "slice": ("{{ [1]|slice(999999)|list|length }}", "range_too_large"),
    "list-of-range": ("{{ range(10**9)|list|length }}", "range_too_large"),
    "sort-of-text": ("{{ ('x' * 1000000)|list|sort|length }}", "range_too_large"),
    # str methods
    "translate": (
        "{% set t = ''.maketrans({'a': 'b' * 100000}) %}{{ ('a' * 100000).translate(t) }}",
        "output_too_large",
    ),
    "maketrans": ("{% set s = 'ab' * 300000 %}{{ ''.maketrans(s, s)|length }}", "range_too_large"),
    "format-reads-namespace": (
        "{% set ns = namespace(a='x' * 100000) %}{{ ('{0.a}' * 100).format(ns) }}",
        "sandbox_violation",
    ),
    "percent-namespace": ("{% set ns = namespace(a='x' * 100000) %}{{ ('%(a)s' * 100) % ns }}", "sandbox_violation"),
    "format-reads-loop-item": (
        BIG + "{% for x in [big, big] %}{{ ('{0.previtem}' * 100).format(loop) }}{% endfor %}",
        "sandbox_violation",
    ),
    "translate-non-mapping": ("{{ 'abc'.translate('x') }}", "sandbox_violation"),
    "ljust": ("{{ 'x'.ljust(2000000) }}", "range_too_large"),
    "zfill-computed": ("{% set n = 1000 * 1001 %}{{ 'x'.zfill(n) }}{{ 'x'.zfill(n) }}", "output_too_large"),
    "expandtabs": ("{{ ('\\t' * 100000).expandtabs(100) }}", "output_too_large"),
    "split": ("{{ ('a,' * 500000).split(',')|length }}", "range_too_large"),
    "split-whitespace": ("{{ ('a ' * 500000).split()|length }}", "range_too_large"),
    "splitlines": ("{{ ('a\\n' * 500000).splitlines()|length }}", "range_too_large"),
    "percent-many-widths": ("{{ ('%999999d' * 50) % ((1,) * 50) }}", "output_too_large"),
    "format-precision": ("{{ ('{:.999999f}' * 50).format(*((1.5,) * 50)) }}", "output_too_large"),
    "upper": ("{{ ('ß' * 500000).upper() }}", "output_too_large"),
    # totals across one render: buffers of macros and {% set %} blocks, lists of big values
    "macro-buffer": (
        BIG + "{% macro m() %}{% for i in range(100000) %}{{ big }}{% endfor %}{% endmacro %}{% set y = m() %}",
        "render_memory_exceeded",
    ),
    "set-block": (
        BIG + "{% set y %}{% for i in range(100000) %}{{ big }}{% endfor %}{% endset %}",
        "render_memory_exceeded",
    ),
    "set-block-literal": (
        "{% set y %}{% for i in range(100000) %}" + "literal text " * 100 + "{% endfor %}{% endset %}",
        "render_memory_exceeded",
    ),
    "set-block-short-values": (
        "{% set s = 'x' * 60 %}{% set y %}{% for i in range(100000) %}{% for j in range(100) %}{{ s }}{% endfor %}"
        "{% endfor %}{% endset %}",
        "render_memory_exceeded",
    ),
    "list-of-copies": (
        "{% set ns = namespace(l=[]) %}{% set big = 'x' * 1000000 %}"
        "{% for i in range(2000) %}{% set ns.l = ns.l + [big ~ i] %}{% endfor %}",
        "render_memory_exceeded",
    ),
    "namespace-doubling": (
        "{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        "output_too_large",
    ),
    # time
    "nested-loops": (
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "render_timeout",
    ),
    "macro-fan-out": (
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}",
        "render_timeout",
    ),
    "macro-recursion": ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "recursion_limit"),
}


@pytest.mark.parametrize(("body", "code"), BOMBS.values(), ids=BOMBS.keys())
def test_an_amplifying_render_is_refused_before_it_allocates(
    hostile_runner: HostileRunner, body: str, code: str
) -> None:
    outcome = hostile_runner.run({"kind": "render", "source": template(body)})
    assert outcome.code == code, outcome
    assert_bounded(outcome)


def _fan_out(levels: int) -> dict[str, str]:
    """Partials each including the next twice: 2**levels renders if nothing stops them."""
    return {
        f"_partials/p{i}.md": (
            f'{{% include "_partials/p{i + 1}.md" %}}{{% include "_partials/p{i + 1}.md" %}}' if i < levels else "leaf"
        )
        for i in range(levels + 1)
    }


def test_include_fan_out_is_refused_at_render_time(hostile_runner: HostileRunner) -> None:
    # Parsed while the partial was harmless, rendered after it became a fan-out (partials change on their own).
    source = template('{% include "_partials/p0.md" %}')
    outcome = hostile_runner.run(
        {
            "kind": "render",
            "source": source,
            "partials": _fan_out(40),
            "parse_partials": {"_partials/p0.md": "harmless"},
        }
    )
    assert (outcome.error, outcome.code) == ("TooManyIncludesError", "too_many_includes"), outcome
    assert outcome.message == "the render would include more than 1,000 partials (PBA_TUNNEL_MAX_INCLUDES)"
    assert_bounded(outcome)


def test_include_fan_out_is_refused_at_parse_time(hostile_runner: HostileRunner) -> None:
    outcome = hostile_runner.run(
        {"kind": "parse", "source": template('{% include "_partials/p0.md" %}'), "partials": _fan_out(60)}
    )
    assert (outcome.error, outcome.code) == ("InvalidTemplateError", "invalid_template"), outcome
    assert outcome.message == (
        "hostile.md:4: body: the includes expand to more than 1,000 partial renders (PBA_TUNNEL_MAX_INCLUDES): "
        "include each partial once, not from every level"
    )
    assert_bounded(outcome)


def test_a_partial_of_many_short_values_collected_in_a_loop_is_charged(hostile_runner: HostileRunner) -> None:
    source = template(
        "{% set s = 'x' * 60 %}{% set y %}{% for i in range(1000) %}{% include '_partials/p.md' %}{% endfor %}"
        "{% endset %}{{ y|length }}"
    )
    outcome = hostile_runner.run(
        {
            "kind": "render",
            "source": source,
            "partials": {"_partials/p.md": "{{ s }}" * 2000},
            "parse_partials": {"_partials/p.md": "harmless"},
        }
    )
    assert outcome.code == "render_memory_exceeded", outcome
    assert_bounded(outcome)


def test_a_long_chain_of_partials_is_refused_at_parse_time(hostile_runner: HostileRunner) -> None:
    chain = {f"_partials/c{i}.md": f'{{% include "_partials/c{i + 1}.md" %}}' for i in range(200)}
    chain["_partials/c200.md"] = "end"
    outcome = hostile_runner.run(
        {"kind": "parse", "source": template('{% include "_partials/c0.md" %}'), "partials": chain}
    )
    assert outcome.code == "invalid_template", outcome
    assert "partials include each other more than 64 levels deep" in outcome.message
    assert_bounded(outcome)


GOOD = {
    "loop": ("{% for i in range(5) %}{{ i }},{% endfor %}", "0,1,2,3,4,"),
    "join": ("{{ range(4)|join(', ') }}", "0, 1, 2, 3"),
    "percent": ("{{ '%s-%05d' % ('a', 42) }} {{ '%(k)s' % {'k': 'v'} }}", "a-00042 v"),
    "format-items": ("{{ '{0[k]} {1.real} {n[0]}'.format({'k': 'v'}, 3, n=[7]) }}", "v 3 7"),
    "format": ("{{ '[{:>5}|{:{}}]'.format('x', 'y', 3) }}", "[    x|y  ]"),
    "sum": (
        "{{ [[1], [2]]|sum(start=[]) }} {{ [1, 2, 3]|sum }} {{ [{'n': 2}, {'n': 3}]|sum(attribute='n') }}",
        "[1, 2] 6 5",
    ),
    "concat": ("{{ 'a' ~ 1 ~ [2] ~ none }}", "a1[2]None"),
    "replace": ("{{ 'a-b-c'|replace('-', '+', 1) }} {{ 'a-b'.replace('-', '') }}", "a+b-c ab"),
    "indent": ("{{ 'a\\nb'|indent('> ', first=True) }}", "> a\n> b"),
    "translate": ("{{ 'abc'.translate(''.maketrans('ab', 'xy')) }}", "xyc"),
    "big-int": (
        "{{ 2 ** 1000 % 1000 }} {{ (10 ** 20) * (10 ** 20) }}",
        "376 10000000000000000000000000000000000000000",
    ),
    "wordwrap": ("{{ 'aaa bbb ccc'|wordwrap(4) }}", "aaa\nbbb\nccc"),
    "split": (
        "{{ 'a b  c'.split() }} {{ 'a,b,c'.split(',', maxsplit=1) }} {{ 'x\\ny'.splitlines() }}",
        "['a', 'b', 'c'] ['a', 'b,c'] ['x', 'y']",
    ),
}


@pytest.mark.parametrize(("body", "expected"), GOOD.values(), ids=GOOD.keys())
def test_ordinary_uses_of_the_guarded_operations_render_as_before(
    hostile_runner: HostileRunner, body: str, expected: str
) -> None:
    outcome = hostile_runner.run({"kind": "render", "source": template(body)})
    assert (outcome.error, outcome.text) == (None, expected), outcome
    assert_bounded(outcome)


def test_a_json_argument_nested_too_deeply_is_an_argument_error(hostile_runner: HostileRunner) -> None:
    source = template("{{ data }}", "arguments:\n  - name: data\n    description: d\n    type: json\n")
    outcome = hostile_runner.run(
        {"kind": "render", "source": source, "arguments": {"data": "[" * 50_000 + "]" * 50_000}}
    )
    assert (outcome.error, outcome.code) == ("ArgumentError", "invalid_arguments"), outcome
    assert outcome.message == "argument 'data' of 'hostile' nests too deeply"
    assert_bounded(outcome)


def test_a_large_but_ordinary_loop_still_renders(hostile_runner: HostileRunner) -> None:
    body = "{% for i in range(100000) %}{{ i }} {{ i % 7 }},{% endfor %}{{ 'end' }}"
    outcome = hostile_runner.run({"kind": "render", "source": template(body)})
    assert outcome.error is None, outcome
    assert outcome.text is not None
    assert outcome.text.startswith("0 0,1 1,2 2,")
    assert_bounded(outcome)
