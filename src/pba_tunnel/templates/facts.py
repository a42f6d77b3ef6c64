"""What validating a template found, kept beside its source so that reading it back needs no parse.

Parsing a template (YAML, Jinja's parser and compiler, the variable analysis) costs about a millisecond; a
version's source never changes, so its validated front matter, variables, partials and warnings are stored
as JSON when it is written and a read rebuilds the ``ParsedTemplate`` from them and the source's message
parts. Only JSON that reads back to the very same spec is stored: a YAML date or an infinite float is not.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import ValidationError

from ..errors import PbaError
from .sections import split_front_matter, split_messages
from .spec import ParsedTemplate, TemplateSpec

FACTS_VERSION = 1  # bump when the shape changes: older facts are then ignored and filled again


def facts_json(parsed: ParsedTemplate) -> str | None:
    """The facts of ``parsed`` as JSON, or None when its spec would not read back unchanged."""
    spec = parsed.spec.model_dump(exclude_defaults=True)
    if not _plain(spec):
        return None
    facts = {
        "v": FACTS_VERSION,
        "spec": spec,
        "partials": parsed.partials,
        "variables": parsed.variables,
        "warnings": parsed.warnings,
    }
    return json.dumps(facts, ensure_ascii=False, separators=(",", ":"))


def _plain(value: Any) -> bool:
    """Whether ``value`` is made only of what JSON gives back exactly (and so validates to the same spec)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if not all(type(key) is str for key in item):
                return False
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif type(item) is float:
            if not math.isfinite(item):
                return False
        elif item is not None and type(item) not in (str, int, bool):
            return False  # a date, a tuple, bytes: JSON would give back another type
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
