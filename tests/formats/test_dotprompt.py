"""Dotprompt: its own spec vectors (template, input, expected messages) translated and rendered, its example
files imported with every untranslatable construct reported, variants, partials, and round trips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from formats_support import DATA, export_and_reimport, messages, sources

from pba_tunnel.config import Limits
from pba_tunnel.formats.dotprompt import export_dotprompt, import_dotprompt
from pba_tunnel.formats.reading import convert_files
from pba_tunnel.rendering import Renderer
from pba_tunnel.service import TemplateService
from pba_tunnel.sync import import_path
from pba_tunnel.templates.parsing import parse_template

pytestmark = pytest.mark.anyio
FOLDER = DATA / "dotprompt"
# Vectors whose template uses what has no equivalent: partials given arguments (a new context).
UNSUPPORTED = {"partial_with_context", "partial_with_license_header"}


def _vectors() -> list[Any]:
    cases = []
    for name in ("variables", "whitespace", "partials", "role", "unicode", "ifEquals", "unlessEquals"):
        for vector in yaml.safe_load((FOLDER / "spec" / f"{name}.yaml").read_text(encoding="utf-8")):
            for index, case in enumerate(vector["tests"]):
                cases.append(pytest.param(vector, case, id=f"{vector['name']}-{index}"))
    return cases


def _expected(vector: dict[str, Any], case: dict[str, Any]) -> list[tuple[str, str]]:
    history = list((vector.get("data") or {}).get("messages", []))
    roles = {"model": "assistant"}
    return [
        (roles.get(m["role"], m["role"]), "".join(p.get("text", "") for p in m["content"]).strip())
        for m in case["expect"]["messages"]
        if m not in history
    ]


@pytest.mark.parametrize(("vector", "case"), _vectors())
def test_spec_vectors_render_as_dotprompt_says(tmp_path: Path, vector: dict[str, Any], case: dict[str, Any]) -> None:
    template = vector["template"]
    defaults = (case.get("options") or {}).get("input", {}).get("default")
    if defaults:
        template = "---\n" + yaml.safe_dump({"input": {"default": defaults}}) + "---\n" + template
    (tmp_path / f"{vector['name']}.prompt").write_text(template, encoding="utf-8")
    for name, text in {**(vector.get("partials") or {}), **(vector.get("resolverPartials") or {})}.items():
        (tmp_path / f"_{name}.prompt").write_text(text, encoding="utf-8")
    conversions, failed = convert_files(tmp_path, "dotprompt", Limits().max_source_bytes)
    assert failed == []
    lossy = [x for c in conversions for x in c.losses if x.lossy]
    if vector["name"] in UNSUPPORTED:
        assert [x.action for x in lossy] == ["literal"]
        return
    assert lossy == []
    partials = {c.name: c.versions[0] for c in conversions if c.partial}
    [source] = [c.versions[0] for c in conversions if not c.partial]
    parsed = parse_template(source, partials=partials.get)
    types = {a.name: a.type for a in parsed.spec.arguments}
    given = ((case.get("data") or {}).get("input") or {}).items()
    # A string given for a JSON argument is read as JSON (as from MCP clients): pass JSON text.
    arguments = {k: json.dumps(v) if types[k] == "json" else v for k, v in given if k in types}
    rendered = Renderer(Limits(), partials=partials.get).render(parsed, arguments)
    assert [(m.role, m.content) for m in rendered.messages] == [m for m in _expected(vector, case) if m[1]]


async def test_examples_import_and_report_what_has_no_equivalent(service: TemplateService) -> None:
    report = await import_path(service, FOLDER)
    assert sorted(report.added) == ["valid-comments-and-partials", "valid-customer-support", "valid-greeting"]
    lossy = sorted((x.template, x.detail.split(":")[0]) for x in report.losses if x.lossy)  # type: ignore[attr-defined]
    assert lossy == [
        ("valid-comments-and-partials", "'{{>footer }}'"),
        ("valid-comments-and-partials", "'{{>header }}'"),
        ("valid-comments-and-partials", "type 'string[]'"),
        ("valid-customer-support", "'{{#role \"system\"}}'"),
        ("valid-customer-support", "'{{#role \"user\"}}'"),
        ("valid-greeting", "'{{#if age >= 18}}'"),
        ("valid-greeting", "a number value printed as is"),  # Dotprompt prints 20, the sandbox 20.0
    ]
    _stored, greeting = await service.current("valid-greeting")
    assert greeting.spec.model is not None
    assert greeting.spec.model.model_dump(exclude_none=True) == {
        "model": "gemini-2.5-flash", "temperature": 0.7, "max_tokens": 1024,
    }  # fmt: skip
    assert [(a.name, a.type, a.is_required) for a in greeting.spec.arguments] == [
        ("name", "string", True), ("age", "number", True), ("interests", "json", False),
    ]  # fmt: skip
    assert greeting.spec.metadata["dotprompt"]["output"] == {"format": "text"}
    # The untranslatable {{#if age >= 18}} block stays as written, lines and all; the rest renders as
    # Handlebars would (the {{#each}} lines are standalone: dropped).
    assert await messages(service, "valid-greeting", {"name": "Ann", "age": "20", "interests": '["chess", "go"]'}) == [
        (
            "user",
            "Hello, Ann!\n\nYou are 20.0 years old.\n\n{{#if age >= 18}}\nYou are an adult.\n{{else}}\n"
            "You are a minor.\n{{/if}}\n\n- chess\n- go",
        )
    ]
    assert await messages(service, "valid-comments-and-partials", {"name": "Bo", "items": '["x"]'}) == [
        ("user", "Hello, Bo!\n\n\n{{>header }}\n\n- x\n\n{{>footer }}")
    ]


async def test_variants_become_templates_and_partials_round_trip(service: TemplateService, tmp_path: Path) -> None:
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "greet.prompt").write_text(
        "---\ninput:\n  schema:\n    who: string, Who to greet\n    tone?(enum, How): [warm, dry]\n"
        '  default:\n    tone: warm\n---\n{{role "system"}}\nBe {{tone}}.\n{{role "user"}}\n'
        "Hi {{who}}! {{> sig}}\n",
        encoding="utf-8",
    )
    (folder / "greet.short.prompt").write_text("---\nmodel: m1\n---\nHi {{who}}.\n", encoding="utf-8")
    (folder / "_sig.prompt").write_text("-- {{who}}'s friend", encoding="utf-8")
    report = await import_path(service, folder)
    assert sorted(report.added) == ["_partials/sig", "greet", "greet-short"]
    assert await messages(service, "greet", {"who": "Al"}) == [
        ("system", "Be warm."),
        ("user", "Hi Al! -- Al's friend"),
    ]
    assert await messages(service, "greet-short", {"who": "Al"}) == [("user", "Hi Al.")]
    _stored, short = await service.current("greet-short")
    assert short.spec.metadata["dotprompt"] == {"name": "greet", "variant": "short"}
    before = await sources(service)
    again, after = await export_and_reimport(service, "dotprompt", tmp_path / "out")
    assert after == before
    assert (again.added, again.updated) == ([], [])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["_sig.prompt", "greet.prompt", "greet.short.prompt"]


NATIVE = """---
name: digest
description: Summarise a list.
tags: [news]
arguments:
- name: items
  description: Headlines
  type: json
- name: style
  description: Style
  enum: [short, long]
  default: short
- name: count
  description: How many
  type: integer
  required: false
---
system:
Write {{ style }} summaries.

user:
{% if count %}
Pick {{ count }}.
{% endif %}
{% for item in items %}
{{ loop.index0 }}. {{ item.title }}{% if not loop.last %};{% endif %}

{% endfor %}
Thanks{{ style|upper }}
"""


async def test_native_to_dotprompt_and_back_names_its_only_loss(service: TemplateService) -> None:
    parsed = service.parse(NATIVE)
    exported = export_dotprompt(parsed, None)
    assert [(x.action, x.detail.split(":")[0]) for x in exported.losses if x.lossy] == [
        ("literal", "'{{ style|upper }}'")
    ]
    back = service.parse(
        import_dotprompt(exported.text, "x", "digest", 100_000, lambda _: None, lambda _: []).versions[0]
    )
    assert back.spec.model_dump(exclude={"arguments"}) == parsed.spec.model_dump(exclude={"arguments"})
    assert [(a.name, a.type, a.enum, a.default, a.is_required) for a in back.spec.arguments] == [
        (a.name, a.type, a.enum, a.default, a.is_required) for a in parsed.spec.arguments
    ]
    arguments = {"items": [{"title": "A"}, {"title": "B"}], "count": 2}
    original = [(m.role, m.content) for m in service.renderer.render(parsed, arguments).messages]
    converted = [(m.role, m.content) for m in service.renderer.render(back, arguments).messages]
    assert original[:1] == converted[:1] == [("system", "Write short summaries.")]
    assert original[1] == ("user", "Pick 2.\n0. A;\n1. B\nThanksSHORT")
    assert converted[1] == ("user", "Pick 2.\n0. A;\n1. B\nThanks{{ style|upper }}")  # the one reported loss
