"""The Handlebars translator on what Dotprompt's vectors do not cover: nested scopes, each-else, escapes,
standalone lines, and constructs without an equivalent (kept literal and reported, never guessed)."""

from __future__ import annotations

from typing import Any

from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from pba_tunnel.formats.handlebars import to_jinja
from pba_tunnel.templates.variables import SYNTAX_OPTIONS

# Our syntax, and None printed as nothing, as the renderer's sandbox does for optional arguments.
OURS = ImmutableSandboxedEnvironment(
    **{**SYNTAX_OPTIONS, "undefined": StrictUndefined}, finalize=lambda value: "" if value is None else value
)


def render(source: str, **values: Any) -> tuple[str, list[str]]:
    translation = to_jinja(source, lambda name: f"_partials/{name}")
    return OURS.from_string(translation.body).render(**values), translation.problems


def test_nested_each_reads_the_item_the_parent_and_the_root() -> None:
    source = (
        "{{#each groups}}\n"
        "{{name}}:\n"
        "  {{#each members}}\n"
        "  - {{this}} of {{../name}} ({{@root.team}} #{{@index}}{{#if @last}}, last{{/if}})\n"
        "  {{/each}}\n"
        "{{else}}\n"
        "no groups\n"
        "{{/each}}\n"
    )
    groups = [{"name": "a", "members": ["x", "y"]}, {"name": "b", "members": ["z"]}]
    text, problems = render(source, groups=groups, team="T")
    assert problems == []
    assert text == "a:\n  - x of a (T #0)\n  - y of a (T #1, last)\nb:\n  - z of b (T #0, last)\n"
    assert render(source, groups=[], team="T")[0] == "no groups\n"
    assert render(source, groups=None, team="T")[0] == "no groups\n"  # a missing list iterates nothing


def test_missing_fields_print_nothing_and_are_false() -> None:
    text, _ = render("[{{user.name}}]{{#if user.admin}} admin{{/if}}", user={"name": "Al"})
    assert text == "[Al]"
    assert render("[{{user.address.city}}]", user={})[0] == "[]"


def test_escapes_and_jinja_text_stay_literal() -> None:
    text, problems = render("\\{{not a tag}} {% raw %} {# hash #} {{x}}\nuser:\n", x="1")
    assert problems == []
    assert text == "{{not a tag}} {% raw %} {# hash #} 1\nuser:"


def test_untranslatable_constructs_are_kept_literal_and_reported() -> None:
    text, problems = render(
        '{{#if a}}{{role "system"}}{{/if}}{{#with b}}{{c}}{{/with}} {{json d}} {{> card title="x"}}', a=True, c="C"
    )
    assert text == '{{role "system"}}{{#with b}}C{{/with}} {{json d}} {{> card title="x"}}'
    assert [p.split(":")[0] for p in problems] == [
        "'{{role \"system\"}}'", "'{{#with b}}'", "'{{json d}}'", "'{{> card title=\"x\"}}'",
    ]  # fmt: skip


def test_an_unclosed_block_is_closed_and_reported() -> None:
    text, problems = render("{{#if a}}yes", a=True)
    assert text == "yes"
    assert problems == ["'{{#if}}' is never closed; closed at the end"]
