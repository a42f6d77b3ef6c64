"""Small shared steps of every format: argument types, descriptions, model hints, YAML front matter."""

from __future__ import annotations

import re
from typing import Any

import yaml
from jinja2 import Environment, TemplateSyntaxError, meta

from ..errors import ConversionError
from ..templates.bounded_yaml import YamlBoundsError, load_bounded
from ..templates.spec import ArgumentType, value_matches_type
from ..templates.variables import SYNTAX_OPTIONS, UNSAFE_GLOBALS
from .losses import Conversion

_OURS = Environment(**{k: v for k, v in SYNTAX_OPTIONS.items() if k != "undefined"})
for _name in UNSAFE_GLOBALS:
    _OURS.globals.pop(_name, None)
_FRONT = re.compile(r"\A\ufeff?[ \t\r\n]*(?:---|\+\+\+)[ \t]*\r?\n(.*?)^(?:---|\+\+\+)[ \t]*(?:\r?\n|\Z)", re.S | re.M)


def split_foreign(text: str, max_bytes: int) -> tuple[dict[str, Any], str]:
    """Front matter (bounded YAML, as for native files) and body of a Prompty or Dotprompt file."""
    match = _FRONT.match(text)
    if match is None:
        return {}, text
    try:
        data = load_bounded(match.group(1), 2 * max_bytes)
    except YamlBoundsError as exc:
        raise ConversionError(f"front matter: {exc.message}") from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise ConversionError(f"front matter: invalid YAML: {type(exc).__name__}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConversionError("front matter: must be a YAML mapping of keys to values")
    return data, text[match.end() :]


def typed(conversion: Conversion, argument: str, kind: str | None, value: Any) -> ArgumentType:
    """Our argument type for another tool's type name (``json`` for lists, objects and anything richer)."""
    known: dict[str, ArgumentType] = {
        "string": "string", "str": "string", "integer": "integer", "int": "integer", "number": "number",
        "float": "number", "double": "number", "boolean": "boolean", "bool": "boolean",
        "array": "json", "list": "json", "object": "json", "dict": "json", "any": "json",
    }  # fmt: skip
    if kind is None:
        candidates: tuple[ArgumentType, ...] = ("boolean", "integer", "number", "string")
        for candidate in candidates:
            if value is not None and value_matches_type(value, candidate):
                return candidate
        return "json" if value is not None else "string"
    found = known.get(str(kind).lower())
    if found is None:
        conversion.note(
            f"arguments.{argument}.type", "approximated", f"type '{kind}' has no equivalent: taken as a JSON value"
        )
        return "json"
    return found


def describe(name: str, description: Any) -> str:
    """The argument's description, or one made from its name (ours are required)."""
    text = " ".join(str(description).split()) if description not in (None, "") else ""
    return text[:1000] if text else f"Value for '{name}'"


def clean_default(conversion: Conversion, argument: str, type_: ArgumentType, value: Any) -> Any:
    """The default when it fits ``type_``; otherwise None, noted."""
    if value is None or value_matches_type(value, type_):
        return value
    if type_ == "number" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    conversion.note(f"arguments.{argument}.default", "dropped", f"{value!r} is not of type {type_}")
    return None


def used_variables(body: str) -> list[str]:
    """Names a Jinja body (our settings) reads without setting them, globals left out, sorted."""
    try:
        tree = _OURS.parse(body)
    except TemplateSyntaxError as exc:
        raise ConversionError(f"the converted body does not parse: {exc.message}") from None
    return sorted(n for n in meta.find_undeclared_variables(tree) if n not in _OURS.globals)


def declare_missing(conversion: Conversion, arguments: list[dict[str, Any]], body: str) -> None:
    """Add an optional string argument for each variable the body reads but no input declares (noted)."""
    declared = {a["name"] for a in arguments}
    for name in used_variables(body):
        if name not in declared:
            arguments.append({"name": name, "description": f"Value for '{name}'", "required": False})
            conversion.note(f"arguments.{name}", "added", "used in the body, not declared: an optional string")


def hint_ok(key: str, value: Any) -> bool:
    """Whether ``value`` is valid for our model hint ``key`` (temperature, top_p, max_tokens or stop)."""
    if key == "temperature":
        return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 2
    if key == "top_p":
        return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
    if key == "max_tokens":
        return isinstance(value, int) and not isinstance(value, bool) and value > 0
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
