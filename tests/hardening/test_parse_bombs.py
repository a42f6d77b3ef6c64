"""Hostile template sources (YAML bombs, deep nesting, oversized fields) are refused at parse time with an
``InvalidTemplateError`` naming the file, quickly and in little memory, whichever YAML loader runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hardening_support import HostileRunner, assert_bounded, template

from pba_tunnel.templates.bounded_yaml import YamlBoundsError, load_bounded


@pytest.fixture(scope="module")
def hostile_runner() -> Iterator[HostileRunner]:
    """One child process per module runs the hostile cases (each in a fresh fork). Not a conftest.py:
    tests elsewhere import the top-level conftest by name, which a second conftest module would shadow."""
    runner = HostileRunner()
    yield runner
    runner.close()


ANCHOR = "x" * 60_000
BILLION_LAUGHS = "\n".join(
    ["lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
)
JSON_ARGUMENT = "arguments:\n  - name: data\n    description: d\n    type: json\n    default: "

# (front matter lines, the reason the error gives)
BOMBS: dict[str, tuple[str, str]] = {
    "tags-anchor-repeated": (
        f"tags: [&a {ANCHOR}, " + ", ".join(["*a"] * 9000) + "]\n",
        "the YAML would be larger than 204,800 characters with its aliases expanded",
    ),
    "enum-anchor-repeated": (
        f"arguments:\n  - name: a\n    description: d\n    enum: [&a {ANCHOR}, " + ", ".join(["*a"] * 9000) + "]\n",
        "the YAML would be larger than 204,800 characters with its aliases expanded",
    ),
    "billion-laughs-metadata": (
        "metadata:\n  " + BILLION_LAUGHS.replace("\n", "\n  ") + "\n",
        "the YAML would be larger than 204,800 characters with its aliases expanded",
    ),
    "billion-laughs-json-default": (
        JSON_ARGUMENT + "\n      " + BILLION_LAUGHS.replace("\n", "\n      ") + "\n",
        "the YAML would be larger than 204,800 characters with its aliases expanded",
    ),
    "many-small-aliases": (
        "metadata: {a: &a 1, list: [" + ", ".join(["*a"] * 101) + "]}\n",
        "the YAML uses more than 100 aliases (*name)",
    ),
    "merge-key-bomb": (
        "metadata:\n  base: &b {" + ", ".join(f"k{i}: {'v' * 500}" for i in range(50)) + "}\n"
        "  m: {" + ", ".join("<<: *b" if i == 0 else f"x{i}: *b" for i in range(90)) + "}\n",
        "the YAML would be larger than 204,800 characters with its aliases expanded",
    ),
    "deep-flow": ("metadata: " + "[" * 40_000 + "]" * 40_000 + "\n", "the YAML nests deeper than 32 levels"),
    "deep-mapping": (
        "metadata: " + "{a: " * 20_000 + "1" + "}" * 20_000 + "\n",
        "the YAML nests deeper than 32 levels",
    ),
    "deep-block": (
        "metadata:\n" + "".join("  " * i + "k:\n" for i in range(1, 60)) + "\n",
        "the YAML nests deeper than 32 levels",
    ),
    "long-list": (
        "metadata: {l: [" + ", ".join(["1"] * 1001) + "]}\n",
        "a YAML list or mapping has more than 1,000 entries",
    ),
    "wide-hex-integer": ("metadata: {n: 0x" + "f" * 50_000 + "}\n", "an integer in the YAML is wider than 64 bits"),
    "base-60-number": (
        "metadata: {n: " + ":".join(["1"] * 30_000) + "}\n",
        "a base-60 number (a:b:c…) has more than 8 parts",
    ),
    "too-many-tags": ("tags: [" + ", ".join(f"t{i}" for i in range(40)) + "]\n", "at most 32 tags are allowed, got 40"),
    "long-tag": ("tags: [" + "t" * 100 + "]\n", "a tag is at most 64 characters, got 100"),
    "many-enum-values": (
        "arguments:\n  - name: a\n    description: d\n    enum: [" + ", ".join(f"v{i}" for i in range(300)) + "]\n",
        "at most 256 enum values are allowed, got 300",
    ),
    "long-enum-value": (
        "arguments:\n  - name: a\n    description: d\n    enum: [" + "v" * 2000 + "]\n",
        "an enum value is at most 1000 characters",
    ),
    "huge-default": (
        JSON_ARGUMENT + "[&a " + "v" * 55_000 + ", *a]\n",
        "the default is larger than the argument limit of 102,400 bytes",
    ),
    "huge-metadata": ("metadata: {a: " + "v" * 20_000 + "}\n", "metadata is at most 16,384 characters as JSON"),
    "decimal-integer-too-long": ("metadata: {n: " + "9" * 5000 + "}\n", "invalid YAML: ValueError"),
}


@pytest.mark.parametrize(("front_matter", "reason"), BOMBS.values(), ids=BOMBS.keys())
def test_a_hostile_front_matter_is_an_invalid_template(
    hostile_runner: HostileRunner, front_matter: str, reason: str
) -> None:
    source = template("Hello", front_matter)
    assert len(source.encode()) <= 100 * 1024, "the corpus must fit the source limit to reach the YAML"
    outcome = hostile_runner.run({"kind": "parse", "source": source})
    assert (outcome.error, outcome.code) == ("InvalidTemplateError", "invalid_template"), outcome
    assert outcome.message.startswith("hostile.md:"), outcome
    assert reason in outcome.message, outcome
    assert_bounded(outcome)


BODIES = {
    "deep-parentheses": "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}",
    "deep-ifs": "{% if true %}" * 200 + "x" + "{% endif %}" * 200,
    "deep-lists": "{{ " + "[" * 3000 + "]" * 3000 + " }}",
    "deep-filters": "{{ 'x'" + "|upper" * 15_000 + " }}",
    "long-number-literal": "{{ " + "9" * 5000 + " }}",
    "long-hex-literal": "{% set n = 0x" + "f" * 5000 + " %}",
    "lone-surrogate": "{{ '\ud800' }}",
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_a_deep_or_unreadable_body_is_an_invalid_template(hostile_runner: HostileRunner, body: str) -> None:
    outcome = hostile_runner.run({"kind": "parse", "source": template(body)})
    assert (outcome.error, outcome.code) == ("InvalidTemplateError", "invalid_template"), outcome
    assert outcome.message.startswith("hostile.md:"), outcome
    assert_bounded(outcome)


MANY_EXPRESSIONS = "{{ {1: 2} }}"  # seven tokens: a 100 KB body of them took 1.4-2.9 s to parse and analyse


def test_a_body_of_thousands_of_tiny_expressions_is_refused_before_it_is_parsed(hostile_runner: HostileRunner) -> None:
    source = template(MANY_EXPRESSIONS * (100 * 1024 // len(MANY_EXPRESSIONS) - 10))
    assert len(source.encode()) <= 100 * 1024, "the body must fit the source limit to reach the parse"
    outcome = hostile_runner.run({"kind": "parse", "source": source})
    assert (outcome.error, outcome.code) == ("InvalidTemplateError", "invalid_template"), outcome
    assert outcome.message.startswith("hostile.md:4: body: the template has more than 20,000 Jinja tokens"), outcome
    assert_bounded(outcome)


def test_a_body_just_within_the_token_limit_parses_in_bounded_time(hostile_runner: HostileRunner) -> None:
    outcome = hostile_runner.run({"kind": "parse", "source": template(MANY_EXPRESSIONS * (20_000 // 7))})
    assert outcome.error is None, outcome
    assert_bounded(outcome)


# The same bounds whichever loader runs: libyaml's (when PyYAML has it) and the pure-Python one.
LOADERS = [yaml.SafeLoader, *([yaml.CSafeLoader] if getattr(yaml, "__with_libyaml__", False) else [])]
STARTER = Path(__file__).resolve().parents[2] / "templates"


def _outcome(text: str, loader: type[yaml.SafeLoader]) -> tuple[str, object]:
    try:
        return "loaded", load_bounded(text, 204_800, loader)
    except YamlBoundsError as exc:
        return "refused", (exc.message, exc.line)
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: an integer of more than 4,300 digits
        return "invalid", type(exc).__name__


def _front_matters() -> list[str]:
    hostile = [front_matter for front_matter, _ in BOMBS.values()]
    starter = [
        path.read_text(encoding="utf-8").split("---\n")[1]
        for path in sorted(STARTER.rglob("*.md"))
        if "_partials" not in path.parts
    ]
    edge = ["a: [1, 2", "a: *nope", "", "- 1\n- 2\n", "a: " + "[" * 32 + "]" * 32, "a: " + "[" * 33 + "]" * 33]
    return hostile + starter + edge


@pytest.mark.skipif(len(LOADERS) < 2, reason="PyYAML was built without libyaml")
def test_the_c_and_python_loaders_accept_and_refuse_the_same_front_matter() -> None:
    texts = _front_matters()
    outcomes = {loader.__name__: [_outcome(text, loader) for text in texts] for loader in LOADERS}
    assert outcomes["CSafeLoader"] == outcomes["SafeLoader"]
    kinds = [kind for kind, _ in outcomes["SafeLoader"]]
    assert kinds.count("loaded") >= 40
    assert "refused" in kinds
    assert "invalid" in kinds


DEEP_FRONT_MATTER = "---\nmetadata: " + "[" * 5000 + "]" * 5000 + "\n---\nSay hello to the whole wide world.\n"


def test_the_enhance_answer_check_reads_a_deep_front_matter_as_none() -> None:
    from pba_tunnel.enhance.answer import front_matter_keys

    assert front_matter_keys(DEEP_FRONT_MATTER) == set()
    assert front_matter_keys("---\nname: a\ndescription: d\n---\nx\n") == {"name", "description"}


def test_the_prompts_chat_importer_describes_a_prompt_with_a_deep_front_matter() -> None:
    from pba_tunnel.importers.prompts_chat import describe

    assert describe("Greeter", DEEP_FRONT_MATTER) == "Say hello to the whole wide world."
    assert describe("Greeter", "---\ndescription: Greets people very politely.\n---\nHi\n") == (
        "Greets people very politely."
    )
