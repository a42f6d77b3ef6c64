"""Text with bare substitutions is printed from its parsed pieces, without Jinja's generated code: a first use
costs a parse, not a compile. What it prints, and how it fails, must be exactly what the compiled code gives."""

from __future__ import annotations

import pytest

from pba_tunnel.config import Limits
from pba_tunnel.errors import OutputTooLargeError, PbaError
from pba_tunnel.rendering import Renderer
from pba_tunnel.templates import ParsedTemplate, parse_template

ARGUMENTS = (
    "arguments:\n"
    "  - name: who\n    description: w\n"
    "  - name: times\n    description: n\n    type: integer\n    default: 2\n"
    "  - name: note\n    description: n\n    required: false\n"
)
BODIES = [
    "Hello {{ who }}!",
    "system:\nBe brief, {{ who }}.\nuser:\n{{who}} x{{ times }}{{ note }}\n\n  end  \n",
    "{{ who }}{{ who }}\r\nline two {{ times }}\n\n\n",
    "only text, no substitution",
    "assistant:\n{{ note }}",
]
VALUES = [{"who": "Ada"}, {"who": "é" * 100, "times": "7", "note": "n"}, {"who": "", "note": ""}]


def template(body: str) -> ParsedTemplate:
    return parse_template(f"---\ndescription: d\n{ARGUMENTS}---\n{body}\n", default_name="quick")


def both(parsed: ParsedTemplate, values: dict[str, str], limits: Limits | None = None) -> tuple[object, object]:
    """What the printed pieces give, and what Jinja's compiled code gives (a renderer never asked about speed)."""
    quick, compiled = Renderer(limits or Limits()), Renderer(limits or Limits())
    assert quick.renders_quickly(parsed)
    results = []
    for renderer in (quick, compiled):
        try:
            result = renderer.render(parsed, values)
            results.append([(m.role, m.content) for m in result.messages])
        except PbaError as exc:
            results.append((type(exc), exc.code, str(exc)))
    return results[0], results[1]


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("values", VALUES)
def test_printed_pieces_give_what_the_compiled_template_gives(body: str, values: dict[str, str]) -> None:
    printed, compiled = both(template(body), values)

    assert printed == compiled


def test_an_unset_optional_argument_prints_as_nothing_on_both_paths() -> None:
    printed, compiled = both(template("[{{ note }}] {{ who }}"), {"who": "Ada"})

    assert printed == compiled == [("user", "[] Ada")]


def test_output_over_the_limit_is_refused_alike_on_both_paths() -> None:
    printed, compiled = both(template("{{ who }}{{ who }}"), {"who": "x" * 600}, Limits(max_output_bytes=1000))

    assert printed == compiled
    assert isinstance(printed, tuple)
    assert printed[0] is OutputTooLargeError
