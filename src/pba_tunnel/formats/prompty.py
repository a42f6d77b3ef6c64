"""Microsoft Prompty (``.prompty``): YAML front matter and a Jinja2 body with role-marker lines.

Import reads both the current form (``model: {id, options}``, ``inputs`` as a list with ``kind``) and the
first one (``model: {configuration, parameters}``, ``inputs`` as a mapping with ``type``, ``sample``,
top-level ``authors``/``tags``/``version``); export writes the current form. Fields with no native place go
to ``metadata.prompty`` and come back on export. Semantics that differ (Prompty splits messages after
rendering; text before any marker is a system message there, a user message here; Jinja's default
whitespace settings) are rewritten so the same arguments render the same messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml
from jinja2 import Environment, TemplateSyntaxError

from ..errors import ConversionError
from ..templates.spec import ParsedTemplate
from .fields import clean_default, declare_missing, describe, hint_ok, split_foreign, typed
from .jinja_text import from_default_jinja, inline_partials, to_default_jinja
from .losses import Conversion, ExportedFile
from .native import FOREIGN_KEY, file_stem, native_source, template_name

SUFFIX = ".prompty"
# Prompty's role boundary (spec §6.2): optional indent and '#', any case, optional [key=value, …]
# attributes. Spec's own pattern nests quantifiers (exponential on a hostile line); this one is linear.
MARKER = re.compile(
    r"^[ \t]*#?[ \t]*(system|user|assistant)(\[[ \t]*\w+[ \t]*=[^\]\r\n]*\])?[ \t]*:[ \t]*\r?\n?$", re.I
)
RICH_KINDS = frozenset({"thread", "image", "file", "audio"})
_OPTIONS = {"temperature": "temperature", "maxOutputTokens": "max_tokens", "topP": "top_p", "stopSequences": "stop"}
_V1_PARAMETERS = {"temperature": "temperature", "max_tokens": "max_tokens", "top_p": "top_p", "stop": "stop"}
_KIND_OF = {"string": "string", "integer": "integer", "number": "float", "boolean": "boolean"}
_PARSE = Environment()


def _model(data: Any, extra: dict[str, Any]) -> dict[str, Any]:
    """Our model hints from Prompty's ``model``; everything else of it goes to ``extra['model']``."""
    if isinstance(data, str):
        return {"model": data}
    if not isinstance(data, dict):
        return {}
    rest = dict(data)
    hints: dict[str, Any] = {}
    if isinstance(rest.get("id"), str):
        hints["model"] = rest.pop("id")
    for block, names in (("options", _OPTIONS), ("parameters", _V1_PARAMETERS)):
        values = rest.get(block)
        if isinstance(values, dict):
            values = dict(values)
            for theirs, ours in names.items():
                if theirs in values and hint_ok(ours, values[theirs]):
                    hints[ours] = values.pop(theirs)
            rest[block] = values
            if not values:
                del rest[block]
    if rest:
        extra["model"] = rest
    return hints


def _inputs(conversion: Conversion, data: Any, extra: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[tuple[str, Any]]
    if isinstance(data, list):
        items = [(str(i.get("name")), i) for i in data if isinstance(i, dict)]
    elif isinstance(data, dict):
        items = [(str(k), v) for k, v in data.items()]
    else:
        return []
    arguments = []
    examples: dict[str, Any] = {}
    for name, item in items:
        spec = item if isinstance(item, dict) else {"default": item}  # scalar shorthand: the default
        kind = spec.get("kind", spec.get("type"))
        if kind in RICH_KINDS:
            conversion.note(
                f"inputs.{name}.kind",
                "approximated",
                f"'{kind}' (messages or media Prompty splices in) has no equivalent: a JSON argument printed as text",
            )
        type_ = typed(conversion, name, None if kind in RICH_KINDS else kind, spec.get("default"))
        argument: dict[str, Any] = {"name": name, "description": describe(name, spec.get("description"))}
        default = clean_default(conversion, name, type_, spec.get("default"))
        if default is not None:
            argument["default"] = default
        elif spec.get("required") is not True:
            argument["required"] = False  # Prompty inputs are optional unless marked required
        if isinstance(spec.get("enumValues"), list) and spec["enumValues"]:
            argument["enum"] = spec["enumValues"]
        if type_ != "string":
            argument["type"] = type_
        for key in ("example", "sample"):
            if key in spec:
                examples[name] = spec[key]
        arguments.append(argument)
    if examples:
        extra["examples"] = examples
    return arguments


def _body(conversion: Conversion, body: str) -> str:
    """Our body: markers normalised (text before the first is a system message in Prompty), Jinja rewritten."""
    segments: list[tuple[str, list[str]]] = [("system", [])]
    for line in body.splitlines(keepends=True):
        marker = MARKER.match(line)
        if marker:
            if marker.group(2):
                conversion.note("body", "dropped", f"role marker attributes {marker.group(2)} have no equivalent")
            segments.append((marker.group(1).lower(), []))
        else:
            segments[-1][1].append(line)
    out = []
    for index, (role, lines) in enumerate(segments):
        text = "".join(lines)
        if index == 0 and not text.strip():
            continue
        try:
            _PARSE.parse(text)
        except TemplateSyntaxError as exc:
            raise ConversionError(
                f"a role marker inside a Jinja block or comment, or a Jinja error ({exc.message}): Prompty splits "
                "messages after rendering, this server before, so it cannot be converted"
            ) from None
        out.append(f"{role}:\n{from_default_jinja(text).strip(chr(10))}\n")
    return "\n".join(out)


def import_prompty(text: str, origin: str, stem: str, max_bytes: int) -> Conversion:
    """One ``.prompty`` file as a native template."""
    data, body = split_foreign(text, max_bytes)
    original = str(data.get("name") or stem)
    conversion = Conversion(template_name(original), origin)
    extra: dict[str, Any] = {}
    if original != conversion.name:
        extra["name"] = original
    metadata = dict(data["metadata"]) if isinstance(data.get("metadata"), dict) else {}
    found = metadata.pop(FOREIGN_KEY, None)
    ours: dict[str, Any] = found if isinstance(found, dict) else {}
    tags = metadata.pop("tags", data.get("tags"))
    for key in ("authors", "version"):  # Prompty's first form kept these at the top level
        if key in data and key not in metadata:
            metadata[key] = data[key]
    if "sample" in data:  # the first form's sample inputs (a mapping, or a file name): kept for export
        extra["sample"] = data["sample"]
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        description = f"Prompty prompt {original}"
        conversion.note("description", "added", "none in the file: made from the name")
    front: dict[str, Any] = {
        "name": conversion.name,
        "title": data.get("displayName") if isinstance(data.get("displayName"), str) else None,
        "description": " ".join(description.split())[:2000],
        "category": ours.get("category"),
        "tags": [str(t) for t in tags] if isinstance(tags, list) else [],
        "arguments": _inputs(conversion, data.get("inputs"), extra),
        "model": _model(data.get("model"), extra),
        "internal": ours.get("internal") is True,
    }
    template = data.get("template")
    kind = (
        template
        if isinstance(template, str)
        else (template or {}).get("format")
        if isinstance(template, dict)
        else None
    )
    kind = kind.get("kind") if isinstance(kind, dict) else kind
    if kind not in (None, "jinja2"):
        raise ConversionError(f"template format '{kind}': only jinja2 Prompty files are read")
    for key in ("outputs", "tools", "template", "base"):
        if key in data:
            extra[key] = data[key]
            conversion.note(key, "kept", f"no equivalent here: kept in metadata.prompty.{key} for export")
    known = {"name", "displayName", "description", "metadata", "model", "inputs", "outputs", "tools", "template",
             "sample", "authors", "tags", "version", "base", FOREIGN_KEY}  # fmt: skip
    for key in data:
        if key not in known:
            extra.setdefault("other", {})[key] = data[key]
            conversion.note(key, "kept", "unknown to Prompty's spec: kept in metadata.prompty.other")
    if "model" in extra:
        conversion.note(
            "model", "kept", "fields beyond model/temperature/top_p/max_tokens/stop kept in metadata.prompty.model"
        )
    if extra:
        metadata["prompty"] = extra
    front["metadata"] = metadata
    converted = _body(conversion, body)
    declare_missing(conversion, front["arguments"], converted)
    conversion.versions.append(native_source(front, converted))
    return conversion


def _inputs_out(parsed: ParsedTemplate, extra: dict[str, Any]) -> list[dict[str, Any]]:
    examples = extra.get("examples", {}) if isinstance(extra.get("examples"), dict) else {}
    inputs = []
    for argument in parsed.spec.arguments:
        kind = _KIND_OF.get(argument.type) or ("array" if isinstance(argument.default, list) else "object")
        item: dict[str, Any] = {"name": argument.name, "kind": kind, "description": argument.description}
        if argument.default is not None:
            item["default"] = argument.default
        elif argument.is_required:
            item["required"] = True
        if argument.enum is not None:
            item["enumValues"] = argument.enum
        if argument.name in examples:
            item["example"] = examples[argument.name]
        inputs.append(item)
    return inputs


def export_prompty(
    parsed: ParsedTemplate, category: str | None, partials: Callable[[str], str | None] = lambda _: None
) -> ExportedFile:
    """One native template as a ``.prompty`` file (current Prompty form; partials written in place)."""
    spec = parsed.spec
    metadata = dict(spec.metadata)
    extra = metadata.pop("prompty", {})
    extra = extra if isinstance(extra, dict) else {}
    exported = ExportedFile(f"{file_stem(spec.name)}{SUFFIX}", "", spec.name)
    if spec.tags:
        metadata["tags"] = list(spec.tags)
    ours = {k: v for k, v in (("category", category), ("internal", spec.internal)) if v}
    if ours:
        metadata[FOREIGN_KEY] = ours
        exported.note("category", "kept", f"no equivalent in Prompty: kept in metadata.{FOREIGN_KEY}")
    model: dict[str, Any] = dict(extra.get("model", {})) if isinstance(extra.get("model"), dict) else {}
    if spec.model is not None:
        hints = spec.model.model_dump(exclude_none=True)
        if "model" in hints:
            model["id"] = hints.pop("model")
        options = dict(model.get("options", {}))
        for theirs, ours_key in _OPTIONS.items():
            if ours_key in hints:
                options[theirs] = hints[ours_key]
        if options:
            model["options"] = options
    front: dict[str, Any] = {"name": extra.get("name", spec.name)}
    if spec.title:
        front["displayName"] = spec.title
    front["description"] = spec.description
    if metadata:
        front["metadata"] = metadata
    if model:
        front["model"] = model
    inputs = _inputs_out(parsed, extra)
    if inputs:
        front["inputs"] = inputs
    for key in ("outputs", "tools", "template", "base"):
        if key in extra:
            front[key] = extra[key]
    front.update(extra.get("other", {}) if isinstance(extra.get("other"), dict) else {})
    if "sample" in extra:
        front["sample"] = extra["sample"]
    parts = []
    for part in parsed.parts:
        inlined, missing = inline_partials(part.source, partials)
        for name in missing:
            exported.note("body", "approximated", f"include of {name}: Prompty has no partials (left as written)")
        text = to_default_jinja(inlined)
        for line in text.splitlines():
            if MARKER.match(line):
                exported.note("body", "approximated", f"Prompty reads the line {line.strip()!r} as a role marker")
        parts.append(f"{part.role}:\n{text.strip(chr(10))}\n")
    if parsed.partials:
        exported.note("body", "inlined", f"{', '.join(parsed.partials)}: written in place (Prompty has no partials)")
    header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1_000_000)
    exported.text = f"---\n{header}---\n" + "\n".join(parts)
    return exported
