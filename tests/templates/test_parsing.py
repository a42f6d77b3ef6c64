"""The template format: front matter, role markers, argument declarations, variables and their errors."""

from __future__ import annotations

import pytest

from pba_tunnel.config import Limits
from pba_tunnel.errors import InvalidTemplateError, SourceTooLargeError
from pba_tunnel.templates import ArgumentSpec, parse_template, split_front_matter
from pba_tunnel.templates.sections import content_hash

PATH = "templates/dev/example.md"


def parse(source: str, partials: dict[str, str] | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
    return parse_template(source, path=PATH, default_name="example", partials=(partials or {}).get, **kwargs)  # type: ignore[arg-type]


def invalid(source: str, partials: dict[str, str] | None = None) -> InvalidTemplateError:
    with pytest.raises(InvalidTemplateError) as caught:
        parse(source, partials)
    assert caught.value.code == "invalid_template"
    return caught.value


# -- front matter -------------------------------------------------------------------------------------


def test_front_matter_fields_are_read() -> None:
    source = (
        "---\n"
        "name: code-review\n"
        "title: Code review\n"
        "description: Review a change.\n"
        "category: development\n"
        "tags: [review, quality]\n"
        "arguments:\n"
        "  - name: language\n"
        "    description: Programming language\n"
        "model:\n"
        "  temperature: 0.2\n"
        "metadata: {author: me, license: MIT}\n"
        "---\n"
        "Review this {{ language }} code.\n"
    )
    parsed = parse(source)
    spec = parsed.spec
    assert (spec.name, spec.title, spec.description, spec.category) == (
        "code-review",
        "Code review",
        "Review a change.",
        "development",
    )
    assert spec.tags == ["review", "quality"]
    assert spec.model is not None
    assert spec.model.temperature == 0.2
    assert spec.metadata == {"author": "me", "license": "MIT"}
    assert parsed.source == source
    assert parsed.warnings == ()


def test_name_defaults_to_the_file_stem_and_category_to_the_folder() -> None:
    parsed = parse_template("---\ndescription: d\n---\nHello\n", default_name="greet", default_category="writing")
    assert parsed.name == "greet"
    assert parsed.spec.category == "writing"


def test_front_matter_name_and_category_win_over_the_defaults() -> None:
    source = "---\nname: other\ncategory: ops\ndescription: d\n---\nHello\n"
    parsed = parse_template(source, default_name="greet", default_category="writing")
    assert (parsed.name, parsed.spec.category) == ("other", "ops")


def test_split_front_matter_returns_the_line_where_the_body_starts() -> None:
    assert split_front_matter("---\na: 1\nb: 2\n---\nbody\n") == ("a: 1\nb: 2\n", "body\n", 5)


def test_a_byte_order_mark_before_the_front_matter_is_accepted() -> None:
    assert parse("\ufeff---\ndescription: d\n---\nHello\n").name == "example"


@pytest.mark.parametrize(
    ("source", "field", "line", "reason"),
    [
        (
            "Hello\n",
            "front matter",
            1,
            "a template starts with a line '---', then YAML front matter, then a closing '---' line",
        ),
        ("---\ndescription: d\nHello\n", "front matter", 1, "front matter is not closed: add a line '---' after it"),
        ("---\n- a\n- b\n---\nHello\n", "front matter", 2, "front matter must be a YAML mapping of keys to values"),
        ("---\nname: x\n---\nHello\n", "description", None, "is required"),  # no line holds what is missing
        (
            "---\ndescription: d\n---\n\n   \n",
            "body",
            4,
            "the body is empty: write the prompt text after the front matter",
        ),
        (
            "---\nname: Bad Name\ndescription: d\n---\nHello\n",
            "name",
            2,
            "'Bad Name' is not a valid name: a name uses lowercase letters, digits, '-' and '_', starting with a "
            "letter or digit",
        ),
    ],
    ids=["no-front-matter", "unclosed", "not-a-mapping", "no-description", "empty-body", "bad-name"],
)
def test_structural_errors_name_file_field_and_line(source: str, field: str, line: int | None, reason: str) -> None:
    error = invalid(source)
    assert (error.path, error.field, error.line, error.reason) == (PATH, field, line, reason)
    assert error.message == f"{PATH}{f':{line}' if line else ''}: {field}: {reason}"


@pytest.mark.parametrize(
    ("front_matter", "field", "reason"),
    [
        ('description: ""', "description", "must not be empty"),
        ("description: 5", "description", "must be text, not a number: put it in quotes"),
        ("description: d\ntitle: " + "x" * 201, "title", "is 201 characters long; at most 200 are allowed"),
        (
            "description: d\ncategory: Ops",
            "category",
            "'Ops' is not a valid category: a category uses lowercase "
            "letters, digits, '-', '_' and '/', starting with a letter or digit",
        ),
    ],
    ids=["empty", "number", "too-long", "category-pattern"],
)
def test_field_errors_are_worded_for_people(front_matter: str, field: str, reason: str) -> None:
    error = invalid(f"---\n{front_matter}\n---\nHello\n")
    assert (error.code, error.field, error.reason) == ("invalid_template", field, reason)


def test_a_name_given_by_the_caller_has_no_line_in_the_source() -> None:
    with pytest.raises(InvalidTemplateError) as raised:
        parse_template("---\ndescription: d\n---\nHi\n", path=PATH, default_name="Evil")
    assert (raised.value.field, raised.value.line) == ("name", None)
    assert raised.value.message == (
        f"{PATH}: name: 'Evil' is not a valid name: a name uses lowercase letters, digits, '-' and '_', starting "
        "with a letter or digit"
    )


def test_invalid_yaml_names_the_line_of_the_problem() -> None:
    error = invalid("---\ndescription: d\ntags: [a, b\n---\nHello\n")
    assert (error.field, error.line) == ("front matter", 4)
    assert error.reason.startswith("invalid YAML: ")


def test_unknown_front_matter_keys_are_errors_with_their_line() -> None:
    error = invalid("---\ndescription: d\ncolour: red\n---\nHello\n")
    assert (error.path, error.field, error.line) == (PATH, "colour", 3)
    assert error.message == (
        f"{PATH}:3: colour: unknown key; allowed keys are: "
        "name, title, description, category, tags, arguments, model, metadata, internal"
    )


def test_every_unknown_key_is_reported_in_one_error() -> None:
    error = invalid("---\ndescription: d\ncolour: red\nsize: 3\n---\nHello\n")
    assert (error.field, error.line) == ("colour", 3)
    assert "also size (line 4): unknown key" in error.message


def test_unknown_model_hint_keys_are_errors() -> None:
    error = invalid("---\ndescription: d\nmodel:\n  temprature: 0.2\n---\nHello\n")
    assert (error.field, error.line) == ("model.temprature", 4)
    assert error.reason == "unknown key; allowed keys are: model, temperature, top_p, max_tokens, stop"


def test_the_source_is_refused_before_parsing_when_too_large() -> None:
    source = "---\ndescription: d\n---\n" + "x" * 2000 + "\n"
    with pytest.raises(SourceTooLargeError) as caught:
        parse(source, limits=Limits(max_source_bytes=1000))
    assert caught.value.code == "source_too_large"
    assert caught.value.message == (
        f"{PATH}: template source is 2,024 bytes; the limit is 1,000 (PBA_TUNNEL_MAX_SOURCE_BYTES)"
    )


def test_the_content_hash_covers_source_and_category() -> None:
    source = "---\ndescription: d\n---\nHello\n"
    assert parse(source).content_hash == content_hash(source, None)
    assert content_hash(source, None) == content_hash(source, None)
    assert content_hash(source, "ops") != content_hash(source, None)
    assert content_hash(source + " ", None) != content_hash(source, None)


# -- role markers ---------------------------------------------------------------------------------------


def test_text_before_the_first_marker_is_a_user_message() -> None:
    parsed = parse("---\ndescription: d\n---\nFirst words.\n\nassistant:\nSure.\n")
    assert [(p.role, p.source, p.line) for p in parsed.parts] == [
        ("user", "First words.\n\n", 4),
        ("assistant", "Sure.\n", 7),
    ]


def test_each_marker_line_starts_a_message_with_its_role() -> None:
    source = "---\ndescription: d\n---\nsystem:\nBe brief.\n\nuser:  \nHi\nassistant:\nHello.\nuser:\nThanks\n"
    parsed = parse(source)
    assert [(p.role, p.source.strip(), p.line) for p in parsed.parts] == [
        ("system", "Be brief.", 5),
        ("user", "Hi", 8),
        ("assistant", "Hello.", 10),
        ("user", "Thanks", 12),
    ]


def test_a_marker_must_be_alone_on_its_line() -> None:
    parsed = parse("---\ndescription: d\n---\nuser: what is this?\n system:\nAssistant: no\n")
    assert [p.role for p in parsed.parts] == ["user"]
    assert parsed.parts[0].source == "user: what is this?\n system:\nAssistant: no\n"


def test_empty_messages_between_markers_are_dropped() -> None:
    parsed = parse("---\ndescription: d\n---\nsystem:\n\nuser:\nHi\n")
    assert [p.role for p in parsed.parts] == ["user"]


# -- argument declarations ----------------------------------------------------------------------------


def test_argument_declarations_with_every_field() -> None:
    source = (
        "---\n"
        "description: d\n"
        "arguments:\n"
        "  - name: language\n"
        "    description: Programming language\n"
        "  - name: focus\n"
        "    description: What to look at\n"
        "    default: correctness\n"
        "    enum: [correctness, security]\n"
        "  - name: count\n"
        "    description: How many\n"
        "    type: integer\n"
        "    default: 3\n"
        "  - name: ratio\n"
        "    description: A ratio\n"
        "    type: number\n"
        "    required: false\n"
        "  - name: strict\n"
        "    description: Be strict\n"
        "    type: boolean\n"
        "    default: false\n"
        "  - name: data\n"
        "    description: Any JSON\n"
        "    type: json\n"
        "    required: true\n"
        "---\n"
        "{{ language }} {{ focus }} {{ count }} {{ ratio }} {{ strict }} {{ data }}\n"
    )
    arguments = parse(source).spec.arguments
    assert arguments == [
        ArgumentSpec(name="language", description="Programming language"),
        ArgumentSpec(
            name="focus", description="What to look at", default="correctness", enum=["correctness", "security"]
        ),
        ArgumentSpec(name="count", description="How many", type="integer", default=3),
        ArgumentSpec(name="ratio", description="A ratio", type="number", required=False),
        ArgumentSpec(name="strict", description="Be strict", type="boolean", default=False),
        ArgumentSpec(name="data", description="Any JSON", type="json", required=True),
    ]
    assert [a.is_required for a in arguments] == [True, False, False, False, False, True]


def arguments_source(declaration: str, body: str = "{{ a }}") -> str:
    return f"---\ndescription: d\narguments:\n{declaration}---\n{body}\n"


@pytest.mark.parametrize(
    ("declaration", "field", "line", "reason"),
    [
        (
            "  - name: a\n    description: x\n    colour: red\n",
            "arguments[0].colour",
            6,
            "unknown key; allowed keys are: name, description, required, default, enum, type",
        ),
        (
            "  - name: a\n    description: x\n    type: float\n",
            "arguments[0].type",
            6,
            "Input should be 'string', 'integer', 'number', 'boolean' or 'json'",
        ),
        ("  - name: a\n", "arguments[0].description", 4, "is required"),
        (
            "  - name: a\n    description: x\n    required: true\n    default: b\n",
            "arguments[0]",
            4,
            "a required argument cannot have a default: drop 'required' or the default",
        ),
        (
            "  - name: a\n    description: x\n    type: integer\n    default: abc\n",
            "arguments[0]",
            4,
            "default 'abc' is not of type integer",
        ),
        (
            "  - name: a\n    description: x\n    type: boolean\n    enum: [yes-please]\n",
            "arguments[0]",
            4,
            "enum value(s) ['yes-please'] are not of type boolean",
        ),
        (
            "  - name: a\n    description: x\n    enum: [x, y]\n    default: z\n",
            "arguments[0]",
            4,
            "default 'z' is not one of the enum values ['x', 'y']",
        ),
        (
            "  - name: a\n    description: x\n  - name: 2b\n    description: y\n",
            "arguments[1].name",
            6,
            "'2b' is not a valid argument name: an argument name uses letters, digits and '_', starting with a "
            "letter or '_'",
        ),
    ],
    ids=[
        "unknown-key",
        "unknown-type",
        "no-description",
        "required-with-default",
        "default-of-wrong-type",
        "enum-of-wrong-type",
        "default-not-in-enum",
        "bad-name",
    ],
)
def test_argument_errors_name_file_field_and_line(declaration: str, field: str, line: int, reason: str) -> None:
    error = invalid(arguments_source(declaration))
    assert (error.path, error.field, error.line, error.reason) == (PATH, field, line, reason)


def test_an_argument_declared_twice_is_an_error() -> None:
    error = invalid(arguments_source("  - name: a\n    description: x\n  - name: a\n    description: y\n"))
    assert error.reason == "argument 'a' is declared twice"
    assert error.path == PATH


# -- variables ------------------------------------------------------------------------------------------


def test_variables_come_from_the_ast_not_from_loop_or_set_names() -> None:
    source = arguments_source(
        "  - name: items\n    description: x\n  - name: title\n    description: y\n",
        "{{ title|upper }}\n{% set total = items|length %}{% for item in items %}{{ loop.index }} {{ item.name }}"
        "{% endfor %}{{ total }}",
    )
    assert parse(source).warnings == ()


def test_a_variable_used_but_not_declared_is_an_error_at_its_first_line() -> None:
    source = "---\ndescription: d\n---\nsystem:\nHi\n\nuser:\n{{ b }} and {{ a }}\n"
    error = invalid(source)
    assert (error.field, error.line) == ("arguments", 8)
    assert error.reason == "variable(s) a, b used in the body but not declared: add them under 'arguments'"


def test_a_variable_declared_but_not_used_is_a_warning() -> None:
    source = arguments_source("  - name: a\n    description: x\n  - name: spare\n    description: y\n")
    assert parse(source).warnings == ("argument 'spare' is declared but never used in the body",)


def test_variables_inside_included_partials_count_as_used() -> None:
    partials = {
        "_partials/outer.md": "Tone: {{ tone }}\n{% include '_partials/inner.md' %}",
        "_partials/inner.md": "Audience: {{ audience }}",
    }
    source = arguments_source(
        "  - name: tone\n    description: x\n  - name: audience\n    description: y\n",
        'Write.\n{% include "_partials/outer.md" %}',
    )
    parsed = parse(source, partials)
    assert parsed.warnings == ()
    assert parsed.partials == ("_partials/inner.md", "_partials/outer.md")


def test_a_variable_a_partial_uses_must_be_declared() -> None:
    partials = {"_partials/outer.md": "Tone: {{ tone }}"}
    error = invalid('---\ndescription: d\n---\n{% include "_partials/outer.md" %}\n', partials)
    assert error.field == "arguments"
    assert error.reason == "variable(s) tone used in the body but not declared: add them under 'arguments'"


def test_a_dynamic_include_is_rejected() -> None:
    error = invalid(arguments_source("  - name: a\n    description: x\n", "{% include a %}"))
    assert (error.field, error.line) == ("body", 7)
    assert error.reason == 'dynamic includes are not allowed: include a literal "_partials/…" name'


def test_an_include_outside_partials_is_rejected() -> None:
    error = invalid('---\ndescription: d\n---\n{% include "../secrets.md" %}\n')
    assert (error.field, error.line) == ("body", 4)
    assert error.reason == "can only include partials under _partials/, not '../secrets.md'"


def test_extends_is_rejected() -> None:
    error = invalid('---\ndescription: d\n---\n{% extends "_partials/base.md" %}\n')
    assert error.reason == '{% extends %} is not supported: use {% include "_partials/…" %}'


def test_an_unknown_partial_is_rejected() -> None:
    error = invalid('---\ndescription: d\n---\n{% include "_partials/missing.md" %}\n')
    assert error.reason == "unknown partial '_partials/missing.md': add the file _partials/missing.md"


def test_partials_that_include_each_other_are_rejected() -> None:
    partials = {"_partials/a.md": '{% include "_partials/b.md" %}', "_partials/b.md": '{% include "_partials/a.md" %}'}
    error = invalid('---\ndescription: d\n---\n{% include "_partials/a.md" %}\n', partials)
    assert error.reason == (
        "partials include each other in a cycle: _partials/a.md -> _partials/b.md -> _partials/a.md"
    )


def test_jinja_syntax_errors_give_the_line_in_the_file() -> None:
    error = invalid("---\ndescription: d\n---\nuser:\nline one\n{{ a + }}\n")
    assert (error.path, error.field, error.line) == (PATH, "body", 6)
    assert error.reason == "Jinja syntax error: unexpected 'end of print statement'"


def test_an_unknown_filter_is_a_load_error_not_a_render_error() -> None:
    error = invalid("---\ndescription: d\n---\nHi {{ 'x'|shout }}\n")
    assert (error.field, error.line) == ("body", 4)
    assert error.reason == "Jinja syntax error: No filter named 'shout'."
