"""Front-matter bounds name the file, the field and the line, like every other parse error."""

from __future__ import annotations

import pytest

from pba_tunnel.config import Limits
from pba_tunnel.errors import InvalidTemplateError
from pba_tunnel.templates import parse_template


def invalid(front_matter: str, limits: Limits | None = None) -> InvalidTemplateError:
    with pytest.raises(InvalidTemplateError) as caught:
        parse_template(f"---\ndescription: d\n{front_matter}---\nHello\n", path="t.md", default_name="t", limits=limits)
    assert caught.value.code == "invalid_template"
    return caught.value


def test_a_long_tag_names_its_field_and_line() -> None:
    error = invalid("tags:\n  - ok\n  - " + "t" * 65 + "\n")
    assert (error.path, error.field, error.line) == ("t.md", "tags[1]", 5)
    assert error.reason == "a tag is at most 64 characters, got 65"


def test_an_oversized_default_names_the_argument() -> None:
    error = invalid(
        "arguments:\n  - name: a\n    description: d\n    default: " + "v" * 200 + "\n", Limits(max_argument_bytes=100)
    )
    assert (error.field, error.line) == ("arguments[0].default", 6)
    assert error.reason == "the default is larger than the argument limit of 100 bytes"


def test_an_alias_bomb_names_the_line_where_the_bound_was_passed() -> None:
    error = invalid(
        "metadata:\n  a: &a [" + "x" * 1000 + "]\n  b: [" + ", ".join(["*a"] * 99) + "]\n",
        Limits(max_source_bytes=20_000),
    )
    assert (error.field, error.line) == ("front matter", 5)
    assert error.reason == "the YAML would be larger than 40,000 characters with its aliases expanded"


def test_the_expansion_bound_follows_the_source_limit() -> None:
    anchor = "x" * 3000
    front_matter = f"metadata:\n  a: &a {anchor}\n  b: [*a, *a, *a]\n"
    parse_template(f"---\ndescription: d\n{front_matter}---\nHello\n", default_name="t")
    error = invalid(front_matter, Limits(max_source_bytes=5000))
    assert error.reason == "the YAML would be larger than 10,000 characters with its aliases expanded"
