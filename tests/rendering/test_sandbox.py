"""Hostile templates: sandbox escapes and resource bombs are each refused with their own error, and the
process (renderer, service, CLI) stays usable afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from pba_tunnel.config import Limits
from pba_tunnel.errors import (
    InvalidTemplateError,
    NumberTooLargeError,
    OutputTooLargeError,
    PbaError,
    RangeTooLargeError,
    RecursionLimitError,
    RenderTimeoutError,
    SandboxViolationError,
    SourceTooLargeError,
)
from pba_tunnel.rendering import Renderer
from pba_tunnel.service import TemplateService
from pba_tunnel.templates import ParsedTemplate, parse_template

NORMAL = parse_template(
    "---\ndescription: d\narguments:\n  - name: who\n    description: w\n---\nHello {{ who }}!\n", default_name="normal"
)


def hostile(body: str, arguments: str = "") -> ParsedTemplate:
    declared = f"arguments:\n{arguments}" if arguments else ""
    return parse_template(f"---\ndescription: d\n{declared}---\n{body}\n", default_name="hostile")


def refused(renderer: Renderer, parsed: ParsedTemplate, arguments: dict[str, str] | None = None) -> PbaError:
    with pytest.raises(PbaError) as caught:
        renderer.render(parsed, arguments or {})
    # The process stays usable: the same renderer renders a normal template right after.
    assert renderer.render(NORMAL, {"who": "Ada"}).text == "Hello Ada!"
    return caught.value


UNSAFE_CLASS = "access to attribute '__class__' of 'str' object is unsafe."

ESCAPES = {
    "dunder-mro": "{{ ''.__class__.__mro__ }}",
    "subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "attr-filter": "{{ ''|attr('__class__') }}",
    "attr-chain": "{{ (''|attr('__class__')|attr('__base__')|attr('__subclasses__'))() }}",
    "attr-chain-index": "{{ (''|attr('__class__')|attr('__mro__'))[1] }}",
    "subscript": "{{ ''['__class__']['__mro__'] }}",
    "str-format": "{{ '{0.__class__.__mro__}'.format('') }}",
    "format-filter": "{{ '%s'|format(''.__class__) }}",
    "map-attribute": "{{ ['']|map(attribute='__class__')|list }}",
    "sort-attribute": "{{ ['a']|sort(attribute='__class__.__name__') }}",
}


@pytest.mark.parametrize("body", ESCAPES.values(), ids=ESCAPES.keys())
def test_reaching_python_internals_is_a_sandbox_violation(body: str) -> None:
    error = refused(Renderer(Limits()), hostile(body))
    assert type(error) is SandboxViolationError
    assert error.code == "sandbox_violation"
    assert error.message == f"template 'hostile' tried something the sandbox forbids: {UNSAFE_CLASS}"


@pytest.mark.parametrize(
    ("body", "unsafe"),
    [
        ("{{ self.__init__.__globals__ }}", "'__init__' of 'TemplateReference' object"),
        ("{{ range.__self__ }}", "'__self__' of 'method' object"),
        ("{{ namespace.__init__.__globals__ }}", "'__init__' of 'type' object"),
        ("{% set items = [] %}{{ items.append(1) }}", "'append' of 'list' object"),
        ("{{ {}.update(a=1) }}", "'update' of 'dict' object"),
    ],
    ids=["template-reference", "bound-global", "namespace", "list-mutation", "dict-mutation"],
)
def test_globals_and_mutation_are_sandbox_violations(body: str, unsafe: str) -> None:
    error = refused(Renderer(Limits()), hostile(body))
    assert type(error) is SandboxViolationError
    assert (
        error.message
        == f"template 'hostile' tried something the sandbox forbids: access to attribute {unsafe} is unsafe."
    )


def test_a_json_argument_cannot_reach_python_internals() -> None:
    parsed = hostile("{{ data.__class__ }}", "  - name: data\n    description: d\n    type: json\n")
    error = refused(Renderer(Limits()), parsed, {"data": "{}"})
    assert type(error) is SandboxViolationError


@pytest.mark.parametrize("name", ["cycler", "joiner", "lipsum"])
def test_the_cycler_joiner_and_lipsum_globals_are_gone(name: str) -> None:
    assert name not in Renderer(Limits()).environment.globals
    with pytest.raises(InvalidTemplateError) as caught:
        hostile(f"{{{{ {name}.__init__.__globals__.os.system('id') }}}}")
    assert caught.value.reason == f"variable(s) {name} used in the body but not declared: add them under 'arguments'"


BOMBS = {
    "range-loop": ("{% for i in range(10**9) %}{% endfor %}", RangeTooLargeError),
    "range-list": ("{{ range(10**9)|list|length }}", RangeTooLargeError),
    "power": ("{{ 10 ** 100000000 }}", NumberTooLargeError),
    "percent-width": ("{{ '%999999999d' % 1 }}", RangeTooLargeError),
    "format-width": ("{{ '{:>999999999}'.format(1) }}", RangeTooLargeError),
    "center": ("{{ 'x'.center(10**9) }}", RangeTooLargeError),
    "wordwrap": ("{{ 'a b'|wordwrap(10**9) }}", RangeTooLargeError),
    "macro-recursion": ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", RecursionLimitError),
    "loop-recursion": ("{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}", RecursionLimitError),
    "repeat": ("{{ 'x' * 10**8 }}", OutputTooLargeError),
    "list-repeat": ("{{ [0] * 10**6 }}", RangeTooLargeError),
    "loop-output": ("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", OutputTooLargeError),
    "doubling": (
        "{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
        OutputTooLargeError,
    ),
    "indent": ("{{ 'a\\nb\\nc'|indent(1000000) }}", OutputTooLargeError),
    "join": ("{{ range(100000)|join('x' * 100) }}", OutputTooLargeError),
    "replace": ("{{ ('a' * 100000)|replace('a', 'a' * 50) }}", OutputTooLargeError),
}


@pytest.mark.parametrize(("body", "error_class"), BOMBS.values(), ids=BOMBS.keys())
def test_resource_bombs_are_refused_with_their_own_error(body: str, error_class: type[PbaError]) -> None:
    error = refused(Renderer(Limits()), hostile(body))
    assert type(error) is error_class


def test_range_is_bounded_by_max_range() -> None:
    renderer = Renderer(Limits(max_range=10))
    assert renderer.render(hostile("{{ range(10)|list|length }}"), {}).text == "10"
    error = refused(renderer, hostile("{{ range(11)|list|length }}"))
    assert type(error) is RangeTooLargeError
    assert error.code == "range_too_large"
    assert error.message == "range() of 11 items exceeds the limit of 10 (PBA_TUNNEL_MAX_RANGE)"


def test_recursion_is_bounded_by_max_recursion_depth() -> None:
    countdown = hostile(
        "{% macro down(n) %}{% if n > 0 %}{{ n }} {{ down(n - 1) }}{% endif %}{% endmacro %}{{ down(depth) }}",
        "  - name: depth\n    description: d\n    type: integer\n",
    )
    renderer = Renderer(Limits(max_recursion_depth=10))
    assert renderer.render(countdown, {"depth": "5"}).text == "5 4 3 2 1"
    error = refused(renderer, countdown, {"depth": "20"})
    assert type(error) is RecursionLimitError
    assert error.code == "recursion_limit"
    assert error.message == (
        "calls nested deeper than 10 levels (PBA_TUNNEL_MAX_RECURSION_DEPTH); look for a macro that calls itself"
    )


def test_output_is_bounded_by_max_output_bytes() -> None:
    renderer = Renderer(Limits(max_output_bytes=100))
    assert renderer.render(hostile("{% for i in range(10) %}{{ 'x' * 10 }}{% endfor %}"), {}).text == "x" * 100
    error = refused(renderer, hostile("{% for i in range(11) %}{{ 'x' * 10 }}{% endfor %}"))
    assert type(error) is OutputTooLargeError
    assert error.code == "output_too_large"
    assert error.message == "rendering 'hostile' produced more than 100 bytes (PBA_TUNNEL_MAX_OUTPUT_BYTES)"


def test_a_hostile_render_stops_rather_than_hangs() -> None:
    renderer = Renderer(Limits(max_render_seconds=0.2))
    spin = hostile("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
    error = refused(renderer, spin)
    assert type(error) is RenderTimeoutError
    assert error.code == "render_timeout"
    assert error.message == "rendering took longer than 0.2 s (set PBA_TUNNEL_MAX_RENDER_SECONDS to allow more)"


@pytest.mark.parametrize(
    "body",
    [
        "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}",
        "{{ " + "[" * 3000 + "]" * 3000 + " }}",
        "{% if true %}" * 2000 + "x" + "{% endif %}" * 2000,  # 16,000 tokens: within the token limit
        "{% if true %}" * 100 + "x" + "{% endif %}" * 100,
        "{% for i in [1] %}" * 25 + "x" + "{% endfor %}" * 25,
    ],
    ids=["parentheses", "lists", "deep-ifs", "100-ifs", "25-loops"],
)
def test_a_source_nested_too_deeply_is_an_invalid_template(body: str) -> None:
    with pytest.raises(InvalidTemplateError) as caught:
        parse_template(f"---\ndescription: d\n---\n{body}\n", path="deep.md", default_name="deep")
    assert (
        caught.value.message
        == "deep.md:4: body: the template nests too deeply: flatten nested blocks, loops or parentheses"
    )
    assert Renderer(Limits()).render(NORMAL, {"who": "Ada"}).text == "Hello Ada!"


def test_a_5_mb_source_is_refused_before_parsing() -> None:
    source = "---\ndescription: d\n---\n" + "{{ x }}" * (5 * 1024 * 1024 // 7) + "\n"
    with pytest.raises(SourceTooLargeError) as caught:
        parse_template(source, default_name="big")
    assert len(source) > 5 * 1024 * 1024 - 10
    assert caught.value.message == (
        f"template source is {len(source):,} bytes; the limit is 102,400 (PBA_TUNNEL_MAX_SOURCE_BYTES)"
    )


@pytest.mark.anyio
async def test_the_service_refuses_every_hostile_template_and_keeps_working(service: TemplateService) -> None:
    await service.create(
        "---\ndescription: d\narguments:\n  - name: who\n    description: w\n---\nHi {{ who }}\n", name="ok"
    )
    cases = [(f"escape-{key}", body, SandboxViolationError) for key, body in ESCAPES.items()]
    cases += [(f"bomb-{key}", body, error_class) for key, (body, error_class) in BOMBS.items()]
    for name, body, error_class in cases:
        await service.create(f"---\ndescription: d\n---\n{body}\n", name=name)
        with pytest.raises(PbaError) as caught:
            await service.render(name, {})
        assert type(caught.value) is error_class, name
        assert (await service.render("ok", {"who": name})).text == f"Hi {name}"

    with pytest.raises(SourceTooLargeError):
        await service.create("---\ndescription: d\n---\n" + "x" * (5 * 1024 * 1024) + "\n", name="big")
    with pytest.raises(InvalidTemplateError):
        await service.create("---\ndescription: d\n---\n{{ " + "(" * 5000 + " }}\n", name="deep")
    assert (await service.render("ok", {"who": "Ada"})).text == "Hi Ada"
    assert [
        t.name for t in (await service.list_templates(limit=1000)).items if not t.name.startswith(("escape-", "bomb-"))
    ] == ["ok"]


def test_a_hostile_render_on_the_cli_is_one_error_line(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "spin.md").write_text(
        "---\ndescription: Spins forever.\n---\n{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}"
        "{% endfor %}\n"
    )
    env = {"PBA_TUNNEL_SEED": "0", "PBA_TUNNEL_MAX_RENDER_SECONDS": "0.2"}
    assert cli("import", str(tmp_path / "spin.md"), env=env).returncode == 0
    result = cli("render", "spin", env=env)
    assert (result.returncode, result.stdout) == (1, "")
    assert (
        result.stderr == "error: rendering took longer than 0.2 s (set PBA_TUNNEL_MAX_RENDER_SECONDS to allow more)\n"
    )


WHO = "  - name: who\n    description: w\n"


@pytest.mark.parametrize(
    "body",
    [
        "{% for i in range(9) %}{{ who }}{% endfor %}",
        "{{ who * 100000 }}",
        "{{ who | wordwrap }}",
        "{{ who.upper() }}",
        "{% if who %}{{ who }}{% endif %}",
        "{% set copy = who %}{{ copy }}",
        "{% macro m() %}x{% endmacro %}{{ m() }}{{ who }}",
        "{{ who ~ who }}",
    ],
)
def test_only_text_with_bare_substitutions_renders_on_the_event_loop(body: str) -> None:
    # Anything that can loop, call, filter, assign or compute may run to the time limit: a worker thread's job,
    # so other clients are answered meanwhile. Plain substitutions cost microseconds and render inline.
    renderer = Renderer(Limits())

    assert renderer.renders_quickly(NORMAL)
    assert renderer.renders_quickly(hostile("system:\nBe brief.\nuser:\n{{ who }} and {{ who }}", WHO))
    assert not renderer.renders_quickly(hostile(body, WHO))
