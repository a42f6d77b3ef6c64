"""What validating a template found, kept beside its source so that reading it back needs no parse.

Parsing a template (YAML, Jinja's parser and compiler, the variable analysis) costs about a millisecond; a
version's source never changes, so its validated front matter, variables, partials and warnings are stored
as JSON when it is written and a read rebuilds the ``ParsedTemplate`` from them and the source's message
parts. Only JSON that reads back to the very same spec is stored: a YAML date or an infinite float is not.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from ..errors import PbaError
from .parsing import split_front_matter, split_messages
from .spec import ParsedTemplate, TemplateSpec

FACTS_VERSION = 1  # bump when the shape changes: older facts are then ignored and filled again


def facts_json(parsed: ParsedTemplate) -> str | None:
    """The facts of ``parsed`` as JSON, or None when its spec would not read back unchanged."""
    spec = parsed.spec.model_dump(exclude_defaults=True)
    try:
        text = json.dumps(
            {
                "v": FACTS_VERSION,
                "spec": spec,
                "partials": parsed.partials,
                "variables": parsed.variables,
                "warnings": parsed.warnings,
            },
            ensure_ascii=False,
            allow_nan=False,
            separators=(",", ":"),
        )
        again = TemplateSpec.model_validate(json.loads(text)["spec"])
    except (TypeError, ValueError, ValidationError):  # a value JSON has no exact form for
        return None
    return text if again == parsed.spec and _same_types(again.model_dump(), parsed.spec.model_dump()) else None


def _same_types(left: Any, right: Any) -> bool:
    """Equal values of the same types all the way down (``1 == 1.0 == True`` in Python, not in a template)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_same_types(left[k], right[k]) for k in left)
    if isinstance(left, list | tuple):
        return len(left) == len(right) and all(_same_types(a, b) for a, b in zip(left, right, strict=True))
    return True


def parsed_from_facts(source: str, content_hash: str, facts: str) -> ParsedTemplate | None:
    """The parsed template stored ``facts`` describe (its parts split from ``source``); None if they are unusable."""
    try:
        data = json.loads(facts)
        if not isinstance(data, dict) or data.get("v") != FACTS_VERSION:
            return None
        spec = TemplateSpec.model_validate(data["spec"])
        _front_matter, body, body_line = split_front_matter(source)
        return ParsedTemplate(
            spec=spec,
            source=source,
            parts=tuple(split_messages(body, body_line)),
            content_hash=content_hash,
            partials=tuple(data["partials"]),
            variables=tuple(data["variables"]),
            warnings=tuple(data["warnings"]),
        )
    except (ValueError, KeyError, TypeError, ValidationError, PbaError):
        return None
