"""The starter library in templates/: valid, documented, large enough, and every template renders."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import STARTER
from pba_tunnel.config import Limits
from pba_tunnel.rendering import Renderer
from pba_tunnel.sync import find_template_files
from pba_tunnel.templates import ArgumentSpec, ParsedTemplate, parse_template

FILES = find_template_files(STARTER)
PARTIALS = {f.relative: f.path.read_text(encoding="utf-8") for f in FILES if f.is_partial}


def parse_all() -> list[ParsedTemplate]:
    return [
        parse_template(
            f.path.read_text(encoding="utf-8"),
            path=str(f.path),
            default_name=f.path.stem,
            default_category=f.category,
            partials=PARTIALS.get,
        )
        for f in FILES
        if not f.is_partial
    ]


TEMPLATES = parse_all()


def test_validate_passes_on_the_starter_library(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("validate", str(STARTER))
    assert (result.returncode, result.stderr) == (0, "")  # no invalid file and no warning
    assert result.stdout == f"{len(FILES)} valid, 0 invalid\n"


def test_there_are_at_least_30_templates_with_unique_names() -> None:
    names = [t.name for t in TEMPLATES]
    assert len(names) >= 30
    assert len(set(names)) == len(names)


def test_every_template_and_argument_is_described() -> None:
    def says_more_than_its_name(argument: ArgumentSpec) -> bool:
        words = argument.description.strip().lower()
        return bool(words) and words not in {argument.name.lower(), argument.name.replace("_", " ").lower()}

    undocumented = [f"{t.name}.{a.name}" for t in TEMPLATES for a in t.spec.arguments if not says_more_than_its_name(a)]
    assert undocumented == []
    assert [t.name for t in TEMPLATES if len(t.spec.description.strip()) < 20] == []


def test_no_template_declares_an_argument_it_does_not_use() -> None:
    assert {t.name: t.warnings for t in TEMPLATES if t.warnings} == {}


def test_every_template_lives_in_a_category_folder() -> None:
    assert [t.name for t in TEMPLATES if not t.spec.category] == []


def sample(argument: ArgumentSpec) -> Any:
    if argument.enum:
        return str(argument.enum[-1])
    return {"integer": "3", "number": "0.5", "boolean": "true", "json": '{"key": "value"}'}.get(
        argument.type, f"<{argument.name}>"
    )


@pytest.mark.parametrize("parsed", TEMPLATES, ids=[t.name for t in TEMPLATES])
def test_every_template_renders_with_its_required_arguments(parsed: ParsedTemplate) -> None:
    renderer = Renderer(Limits(), partials=PARTIALS.get)
    required = {a.name: sample(a) for a in parsed.spec.arguments if a.is_required}
    minimal = renderer.render(parsed, required)
    assert minimal.messages
    assert minimal.messages[-1].role == "user"
    for name, value in required.items():
        if value.startswith("<"):
            assert value in minimal.text, f"{parsed.name} never shows {name}"

    given = {a.name: sample(a) for a in parsed.spec.arguments}
    everything = renderer.render(parsed, given)
    assert [v for v in given.values() if v.startswith("<") and v not in everything.text] == []


def test_only_the_enhance_instructions_are_internal() -> None:
    """35 templates for work are listed to clients; the 5 enhance-* instructions are internal (issue 10, defect 6)."""
    internal = sorted(t.name for t in TEMPLATES if t.spec.internal)
    assert internal == ["enhance-clarity", "enhance-concise", "enhance-custom", "enhance-examples", "enhance-structure"]
    assert len(TEMPLATES) - len(internal) == 35
