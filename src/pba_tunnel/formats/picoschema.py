"""Dotprompt input schemas (Picoschema or JSON Schema) to our arguments, and our arguments back to Picoschema."""

from __future__ import annotations

import re
from typing import Any

from ..templates.spec import ArgumentSpec, ArgumentType
from .fields import clean_default, describe, typed
from .losses import Conversion

_KEY = re.compile(r"^([A-Za-z_][\w]*)(\?)?(?:\(\s*([a-z*]+)\s*(?:,\s*(.*))?\))?$", re.S)
_SCALARS = {"string", "number", "integer", "boolean", "any", "null"}
_OURS: dict[ArgumentType, str] = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean"}


def _json_schema(conversion: Conversion, schema: dict[str, Any], defaults: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", [])) if isinstance(schema.get("required"), list) else set()
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    arguments = []
    for name, prop in (properties or {}).items():
        prop = prop if isinstance(prop, dict) else {}
        kind = prop.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        argument = _argument(conversion, str(name), kind, prop.get("description"), name in required, defaults)
        if isinstance(prop.get("enum"), list):
            argument["enum"] = [v for v in prop["enum"] if v is not None] or None
        if "default" in prop and "default" not in argument:
            argument["default"] = clean_default(conversion, name, argument.get("type", "string"), prop["default"])
            argument.pop("required", None)
        if kind in ("object", "array"):
            argument["_schema"] = {name: prop}
        arguments.append(argument)
    return arguments


def _argument(
    conversion: Conversion, name: str, kind: Any, description: Any, required: bool, defaults: dict[str, Any]
) -> dict[str, Any]:
    type_ = typed(conversion, name, kind if kind is not None else "any", None)
    argument: dict[str, Any] = {"name": name, "description": describe(name, description)}
    if type_ != "string":
        argument["type"] = type_
    default = clean_default(conversion, name, type_, defaults.get(name))
    if default is not None:
        argument["default"] = default
    elif not required:
        argument["required"] = False
    return argument


def arguments_from_schema(conversion: Conversion, schema: Any, defaults: dict[str, Any]) -> list[dict[str, Any]]:
    """Argument dicts (front-matter form) for an ``input.schema``; ``_schema`` holds a JSON field's own schema."""
    if schema is None:
        return []
    if not isinstance(schema, dict):
        conversion.note("input.schema", "dropped", f"a whole-input schema {schema!r} has no named arguments")
        return []
    if "type" in schema or "properties" in schema:
        return _json_schema(conversion, schema, defaults)
    arguments = []
    for key, value in schema.items():
        match = _KEY.match(str(key))
        if match is None:
            conversion.note(f"input.schema.{key}", "dropped", "not a Picoschema field this server can read")
            continue
        name, optional, kind, description = match.groups()
        if name == "*" or kind == "*":
            conversion.note(f"input.schema.{key}", "dropped", "wildcard fields have no equivalent")
            continue
        if kind is None and isinstance(value, str):
            scalar, _, text = value.partition(",")
            kind, description = scalar.strip(), text.strip() or None
            if kind not in _SCALARS:
                kind = "any"
                conversion.note(f"input.schema.{name}", "approximated", f"type '{scalar.strip()}': a JSON value")
        elif kind is None:
            kind = "object"
        argument = _argument(
            conversion, name, "string" if kind == "enum" else kind, description, not optional, defaults
        )
        if kind == "enum" and isinstance(value, list):
            values = [v for v in value if v is not None]
            argument["enum"] = values
            kinds = {typed(conversion, name, None, v) for v in values}
            if len(kinds) == 1 and (only := kinds.pop()) != "string":
                argument["type"] = only
        if argument.get("type") == "json" and not isinstance(value, str):  # its fields or items: back on export
            argument["_schema"] = {key: value}
        arguments.append(argument)
    return arguments


def picoschema(arguments: list[ArgumentSpec], schemas: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Picoschema and the ``default`` mapping for our arguments (a JSON argument's original field if kept)."""
    schema: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    for argument in arguments:
        optional = "" if argument.is_required else "?"
        if argument.default is not None:
            defaults[argument.name] = argument.default
        kept = schemas.get(argument.name)
        if argument.type == "json" and isinstance(kept, dict) and len(kept) == 1:
            schema.update(kept)
        elif argument.enum is not None:
            schema[f"{argument.name}{optional}(enum, {argument.description})"] = list(argument.enum)
        else:
            schema[f"{argument.name}{optional}"] = f"{_OURS.get(argument.type, 'any')}, {argument.description}"
    return schema, defaults
