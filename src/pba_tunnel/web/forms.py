"""Argument forms: one field per declared argument, and the submitted values back as render arguments."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..rendering import RenderResult
from ..templates.spec import ArgumentSpec

FIELD_PREFIX = "arg-"
MAX_VERSION = 2**31 - 1  # the store's version column is a 32-bit integer
SHOWN_VALUE = 40  # characters of a refused value repeated on an error page


def shown_value(value: object) -> str:
    """A refused value as an error page repeats it: cut to a few words (the page escapes it)."""
    text = "" if value is None else str(value)
    return text if len(text) <= SHOWN_VALUE else text[:SHOWN_VALUE] + "…"


def version_number(value: object) -> int | None:
    """A version number sent in a form or query (a whole number from 1), or None for anything else."""
    text = "" if value is None else str(value)
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_VERSION else None


@dataclass
class ArgumentField:
    """How one argument is asked for: its input kind, choices and the value to show."""

    name: str
    description: str
    kind: str  # select, checkbox, integer, number, json, text
    required: bool
    value: str
    choices: list[str]

    @property
    def field_id(self) -> str:
        """The form field's name and id (argument names are identifiers, so this is safe in markup)."""
        return f"{FIELD_PREFIX}{self.name}"


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def argument_fields(arguments: list[ArgumentSpec], given: dict[str, str] | None = None) -> list[ArgumentField]:
    """The fields of a form for ``arguments``, filled with what was given, else the defaults."""
    fields = []
    for spec in arguments:
        if spec.enum is not None:
            kind = "select"
        elif spec.type == "boolean":
            kind = "checkbox"
        elif spec.type in ("integer", "number", "json"):
            kind = spec.type
        else:
            kind = "text"
        value = (given or {}).get(spec.name, _shown(spec.default))
        choices = [_shown(v) for v in spec.enum or []]
        fields.append(ArgumentField(spec.name, spec.description, kind, spec.is_required, value, choices))
    return fields


def submitted_arguments(form: dict[str, Any], arguments: list[ArgumentSpec]) -> dict[str, str]:
    """The render arguments of a submitted form: empty fields are left out (defaults then apply)."""
    values = {}
    for spec in arguments:
        value = form.get(f"{FIELD_PREFIX}{spec.name}")
        if isinstance(value, str) and value != "":
            values[spec.name] = value
    return values


def sample_arguments(arguments: list[ArgumentSpec]) -> dict[str, Any]:
    """Values to preview an edited template with: defaults, the first choice, else a typed example."""
    examples: dict[str, Any] = {"integer": 1, "number": 1.5, "boolean": True, "json": {}}
    values = {}
    for spec in arguments:
        if spec.default is not None:
            values[spec.name] = spec.default
        elif spec.enum:
            values[spec.name] = spec.enum[0]
        else:
            values[spec.name] = examples.get(spec.type, f"example {spec.name}")
    return values


def copies(result: RenderResult) -> tuple[str, str]:
    """The rendered messages as JSON, and the joined text: what the copy buttons copy."""
    messages = [{"role": m.role, "content": m.content} for m in result.messages]
    return json.dumps(messages, indent=2, ensure_ascii=False), result.text
