"""Bounds on the front-matter fields that are stored, listed and offered to clients, checked after validation."""

from __future__ import annotations

import json
from typing import Any

from ..config import Limits
from .spec import TemplateSpec

MAX_TAGS = 32
MAX_TAG_LENGTH = 64
MAX_ARGUMENTS = 100
MAX_ENUM_VALUES = 256
MAX_ENUM_VALUE_LENGTH = 1000
MAX_METADATA_BYTES = 16 * 1024


def _json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, default=str))


def field_problem(spec: TemplateSpec, limits: Limits) -> tuple[tuple[str | int, ...], str] | None:
    """The first field beyond its bound, as (location, message), or None when all are within bounds."""
    if len(spec.tags) > MAX_TAGS:
        return ("tags",), f"at most {MAX_TAGS} tags are allowed, got {len(spec.tags)}"
    for index, tag in enumerate(spec.tags):
        if len(tag) > MAX_TAG_LENGTH:
            return ("tags", index), f"a tag is at most {MAX_TAG_LENGTH} characters, got {len(tag):,}"
    if len(spec.arguments) > MAX_ARGUMENTS:
        return ("arguments",), f"at most {MAX_ARGUMENTS} arguments are allowed, got {len(spec.arguments)}"
    for index, argument in enumerate(spec.arguments):
        if argument.enum is not None:
            if len(argument.enum) > MAX_ENUM_VALUES:
                message = f"at most {MAX_ENUM_VALUES} enum values are allowed, got {len(argument.enum):,}"
                return ("arguments", index, "enum"), message
            for position, value in enumerate(argument.enum):
                if _json_size(value) > MAX_ENUM_VALUE_LENGTH:
                    message = f"an enum value is at most {MAX_ENUM_VALUE_LENGTH} characters"
                    return ("arguments", index, "enum", position), message
        if argument.default is not None and _json_size(argument.default) > limits.max_argument_bytes:
            message = f"the default is larger than the argument limit of {limits.max_argument_bytes:,} bytes"
            return ("arguments", index, "default"), message
    if spec.metadata and _json_size(spec.metadata) > MAX_METADATA_BYTES:
        return ("metadata",), f"metadata is at most {MAX_METADATA_BYTES:,} characters as JSON"
    return None
