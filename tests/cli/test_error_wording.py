"""The CLI words the shell remedy from an error's code and fields; the core's message carries the facts only."""

from __future__ import annotations

import pytest

from pba_tunnel.cli.errors import describe
from pba_tunnel.errors import (
    InstructionMissingError,
    MissingArgumentsError,
    NotFoundError,
    PbaError,
    ProviderNotConfiguredError,
    RenderError,
)


@pytest.mark.parametrize(
    ("error", "facts", "line"),
    [
        (
            MissingArgumentsError("greet", ["who", "when"]),
            "template 'greet' needs argument(s) who, when",
            "template 'greet' needs argument(s) who, when: pass them, e.g. -a who=...",
        ),
        (
            NotFoundError("no template named 'ghost'", name="ghost"),
            "no template named 'ghost'",
            "no template named 'ghost': `pba-tunnel list` shows the names",
        ),
        (
            NotFoundError("template 'old' is deleted", name="old", deleted=True),
            "template 'old' is deleted",
            "template 'old' is deleted: `pba-tunnel restore old` brings it back",
        ),
        (
            ProviderNotConfiguredError("the openai provider is not configured: set OPENAI_API_KEY", provider="openai"),
            "the openai provider is not configured: set OPENAI_API_KEY",
            "the openai provider is not configured: set OPENAI_API_KEY, or pass --provider ollama",
        ),
        (
            InstructionMissingError("the instruction template 'enhance-x' is not in the store", template="enhance-x"),
            "the instruction template 'enhance-x' is not in the store",
            "the instruction template 'enhance-x' is not in the store (pba-tunnel import templates/enhance)",
        ),
        (RenderError("'x' is undefined"), "'x' is undefined", "'x' is undefined"),
    ],
)
def test_the_cli_adds_its_remedy_to_the_facts(error: PbaError, facts: str, line: str) -> None:
    assert error.message == facts
    assert describe(error) == line


def test_errors_keep_a_stable_code_and_their_fields() -> None:
    missing = MissingArgumentsError("greet", ["who"])
    assert (missing.code, missing.template, missing.missing) == ("missing_arguments", "greet", ["who"])
    assert "-a" not in missing.message
    unconfigured = ProviderNotConfiguredError("not configured", provider="anthropic")
    assert (unconfigured.code, unconfigured.provider) == ("provider_not_configured", "anthropic")
