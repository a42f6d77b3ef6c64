"""Parse a template file: front matter, role markers, validation with file, field and line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import ValidationError

from ..config import Limits
from ..errors import InvalidTemplateError, SourceTooLargeError
from .bounded_yaml import YamlBoundsError, load_bounded
from .field_bounds import field_problem
from .sections import content_hash, split_front_matter, split_messages
from .spec import ArgumentSpec, ModelHints, ParsedTemplate, TemplateSpec
from .variables import PartialLookup, analyse_variables


def check_source_size(source: str, limits: Limits, path: str | None) -> None:
    """Refuse sources beyond ``max_source_bytes`` before any parsing work."""
    size = len(source.encode("utf-8", errors="surrogatepass"))
    if size > limits.max_source_bytes:
        where = f"{path}: " if path else ""
        raise SourceTooLargeError(
            f"{where}template source is {size:,} bytes; the limit is {limits.max_source_bytes:,} "
            "(PBA_TUNNEL_MAX_SOURCE_BYTES)"
        )


def _check_encodable(source: str, path: str | None) -> None:
    """Refuse text that is not valid Unicode (a lone surrogate such as \\ud800): it cannot be stored or sent."""
    try:
        source.encode("utf-8")
    except UnicodeEncodeError as exc:
        line = source.count("\n", 0, exc.start) + 1
        raise InvalidTemplateError(
            f"the source contains {source[exc.start]!r}, a lone surrogate that is not valid Unicode text",
            path=path,
            field="source",
            line=line,
        ) from None


def _field_name(loc: Sequence[int | str]) -> str:
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def _yaml_line(front_matter: str, loc: Sequence[int | str]) -> int | None:
    """1-based file line of the front-matter node at ``loc`` (the closest existing ancestor); None when its
    top-level key is not in the source (its value came from elsewhere, e.g. the name a tool was given)."""
    try:
        node: Any = yaml.compose(front_matter, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    line: int = node.start_mark.line
    for depth, part in enumerate(loc):
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                if depth == 0:
                    return None
                break
            line = match[0].start_mark.line
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line
        else:
            break
    return line + 2  # +1 for 1-based, +1 for the opening '---'


def _allowed_keys(loc: Sequence[int | str]) -> str:
    model = ArgumentSpec if "arguments" in loc else ModelHints if "model" in loc else TemplateSpec
    return ", ".join(model.model_fields)


# How a value that does not match a spec pattern should look, per field, in words rather than a regex.
_PATTERN_RULES = {
    "name": ("name", "a name uses lowercase letters, digits, '-' and '_', starting with a letter or digit"),
    "category": (
        "category",
        "a category uses lowercase letters, digits, '-', '_' and '/', starting with a letter or digit",
    ),
    "argument": (
        "argument name",
        "an argument name uses letters, digits and '_', starting with a letter or '_'",
    ),
}


def _yaml_kind(value: Any) -> str:
    """What YAML made of a value, in words (``5`` is a number, ``[a]`` a list)."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    return "a mapping" if isinstance(value, dict) else type(value).__name__


def _pattern_message(loc: Sequence[int | str], value: Any) -> str | None:
    """A pattern mismatch worded for people, e.g. ``'Evil' is not a valid name: a name uses ...``."""
    if loc[:1] == ("arguments",) and loc[-1:] == ("name",):
        key = "argument"
    elif len(loc) == 1:
        key = str(loc[0])
    else:
        return None
    if key not in _PATTERN_RULES:
        return None
    what, rule = _PATTERN_RULES[key]
    return f"{value!r} is not a valid {what}: {rule}"


def _validation_error(error: ValidationError, front_matter: str, path: str | None) -> InvalidTemplateError:
    problems: list[tuple[str, int | None, str]] = []
    for item in error.errors():
        loc = item["loc"]
        if item["type"] == "extra_forbidden":
            message = f"unknown key; allowed keys are: {_allowed_keys(loc[:-1])}"
        elif item["type"] == "missing" and tuple(loc) == ("name",):
            message = "is required: add 'name:' to the front matter, or give the template a name"
        elif item["type"] == "missing":
            message = "is required"
        elif item["type"] == "string_pattern_mismatch" and (worded := _pattern_message(loc, item["input"])):
            message = worded
        elif item["type"] == "string_too_short" and item.get("ctx", {}).get("min_length") == 1:
            message = "must not be empty"
        elif item["type"] == "string_too_long":
            message = f"is {len(item['input']):,} characters long; at most {item['ctx']['max_length']:,} are allowed"
        elif item["type"] == "string_type":
            message = f"must be text, not {_yaml_kind(item['input'])}: put it in quotes"
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
        problems.append((_field_name(loc) or "front matter", _yaml_line(front_matter, loc), message))
    field, line, message = problems[0]
    if len(problems) > 1:
        others = "; ".join(f"{f} (line {n}): {m}" if n else f"{f}: {m}" for f, n, m in problems[1:])
        message = f"{message}; also {others}"
    return InvalidTemplateError(message, path=path, field=field, line=line)


def _load_front_matter(front_matter: str, path: str | None, limits: Limits) -> dict[str, Any]:
    try:
        data = load_bounded(front_matter, 2 * limits.max_source_bytes)
    except YamlBoundsError as exc:
        line = exc.line + 2 if exc.line is not None else None
        raise InvalidTemplateError(exc.message, path=path, field="front matter", line=line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise InvalidTemplateError(f"invalid YAML: {reason}", path=path, field="front matter", line=line) from None
    except (ValueError, TypeError, OverflowError, RecursionError, MemoryError) as exc:
        # A value the constructor cannot build, e.g. an integer of more than 4,300 digits.
        raise InvalidTemplateError(
            f"invalid YAML: {type(exc).__name__}: {exc}", path=path, field="front matter", line=None
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidTemplateError(
            "front matter must be a YAML mapping of keys to values", path=path, field="front matter", line=2
        )
    return data


def parse_template(
    source: str,
    *,
    path: str | None = None,
    default_name: str | None = None,
    default_category: str | None = None,
    limits: Limits | None = None,
    partials: PartialLookup | None = None,
) -> ParsedTemplate:
    """Parse and validate a template source; raise ``InvalidTemplateError`` naming file, field and line."""
    try:
        return _parse_template(
            source,
            path=path,
            default_name=default_name,
            default_category=default_category,
            limits=limits,
            partials=partials,
        )
    except RecursionError:
        # Every nesting bound is checked on the way; this is the last line of defence, never a traceback.
        raise InvalidTemplateError(
            "the template nests too deeply to be parsed", path=path, field="front matter", line=None
        ) from None


def _parse_template(
    source: str,
    *,
    path: str | None = None,
    default_name: str | None = None,
    default_category: str | None = None,
    limits: Limits | None = None,
    partials: PartialLookup | None = None,
) -> ParsedTemplate:
    check_source_size(source, limits or Limits(), path)
    _check_encodable(source, path)
    front_matter, body, body_line = split_front_matter(source, path)
    data = _load_front_matter(front_matter, path, limits or Limits())
    if default_name is not None:
        data.setdefault("name", default_name)
    if default_category:
        data.setdefault("category", default_category)
    try:
        spec = TemplateSpec.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, front_matter, path) from None
    problem = field_problem(spec, limits or Limits())
    if problem is not None:
        loc, message = problem
        raise InvalidTemplateError(message, path=path, field=_field_name(loc), line=_yaml_line(front_matter, loc))

    parts = split_messages(body, body_line)
    if not parts:
        raise InvalidTemplateError(
            "the body is empty: write the prompt text after the front matter",
            path=path,
            field="body",
            line=body_line,
        )
    analysis = analyse_variables(parts, path=path, partials=partials, limits=limits)
    declared = {a.name for a in spec.arguments}
    undeclared = sorted(analysis.used - declared)
    if undeclared:
        names = ", ".join(undeclared)
        raise InvalidTemplateError(
            f"variable(s) {names} used in the body but not declared: add them under 'arguments'",
            path=path,
            field="arguments",
            line=analysis.first_line(undeclared),
        )
    warnings = tuple(
        f"argument '{name}' is declared but never used in the body"
        for name in (a.name for a in spec.arguments)
        if name not in analysis.used
    )
    return ParsedTemplate(
        spec=spec,
        source=source,
        parts=tuple(parts),
        content_hash=content_hash(source, spec.category),
        partials=tuple(sorted(analysis.partials)),
        warnings=warnings,
        variables=tuple(sorted(analysis.used)),
    )
