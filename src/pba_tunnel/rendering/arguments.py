"""Turn the arguments a caller gives (strings from CLI and MCP, or typed JSON) into render values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..config import Limits
from ..errors import (
    ArgumentError,
    ArgumentTooLargeError,
    ArgumentTypeError,
    MissingArgumentsError,
    UnknownArgumentsError,
)
from ..templates.spec import ArgumentSpec, TemplateSpec, value_matches_type

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def json_kind(value: Any) -> str:
    """A value as its JSON type and text, e.g. ``the number 3`` or ``null`` (what the caller sent, in its terms)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    text = text if len(text) <= 40 else text[:39] + "…"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {text}"
    if isinstance(value, int | float):
        return f"the number {text}"
    if isinstance(value, list | tuple):
        return f"the array {text}"
    if isinstance(value, dict):
        return f"the object {text}"
    return f"the string {text}"


def _convert(template: str, spec: ArgumentSpec, value: Any) -> Any:
    if not isinstance(value, str) or spec.type == "string":
        if spec.type == "number" and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if value_matches_type(value, spec.type):
            return value
        raise ArgumentTypeError(
            f"argument '{spec.name}' of '{template}' must be of type {spec.type}, got {json_kind(value)}",
            template=template,
            name=spec.name,
            expected=spec.type,
            value=value,
        )
    text = value.strip()
    try:
        if spec.type == "integer":
            return int(text)
        if spec.type == "number":
            return float(text)
        if spec.type == "boolean":
            lowered = text.lower()
            if lowered in _TRUE or lowered in _FALSE:
                return lowered in _TRUE
            raise ValueError(text)
        return json.loads(text)
    except ValueError:
        hint = {"boolean": "true or false", "json": "valid JSON"}.get(
            spec.type, f"a{'n' if spec.type == 'integer' else ''} {spec.type}"
        )
        raise ArgumentError(f"argument '{spec.name}' of '{template}' must be {hint}, got {value!r}") from None


def _check_size(template: str, name: str, value: Any, limits: Limits) -> None:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if len(text) * 4 <= limits.max_argument_bytes:  # UTF-8 needs at most 4 bytes a character
        return
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > limits.max_argument_bytes:
        raise ArgumentTooLargeError(
            f"argument '{name}' of '{template}' is {size:,} bytes; the limit is {limits.max_argument_bytes:,} "
            "(PBA_TUNNEL_MAX_ARGUMENT_BYTES)"
        )


def resolve_arguments(spec: TemplateSpec, given: Mapping[str, Any], limits: Limits) -> dict[str, Any]:
    """Validate, convert and complete the arguments of one render."""
    declared = [a.name for a in spec.arguments]
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise UnknownArgumentsError(spec.name, unknown, declared)
    missing = [a.name for a in spec.arguments if a.is_required and given.get(a.name) is None]
    if missing:
        raise MissingArgumentsError(spec.name, missing)

    values: dict[str, Any] = {}
    for argument in spec.arguments:
        raw = given.get(argument.name)
        if raw is None:
            values[argument.name] = argument.default
            continue
        try:
            _check_size(spec.name, argument.name, raw, limits)
            value = _convert(spec.name, argument, raw)
        except RecursionError:
            # JSON nested thousands deep: Python's json recurses, and RecursionError is no ValueError.
            raise ArgumentError(f"argument '{argument.name}' of '{spec.name}' nests too deeply") from None
        if argument.enum is not None and value not in argument.enum:
            choices = ", ".join(str(v) for v in argument.enum)
            raise ArgumentError(f"argument '{argument.name}' of '{spec.name}' must be one of: {choices}; got {raw!r}")
        values[argument.name] = value
    return values
