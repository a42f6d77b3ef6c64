"""Google Dotprompt (``.prompt``): YAML front matter (Picoschema inputs, model, config) and a Handlebars body.

A variant ``name.variant.prompt`` becomes its own template ``name-variant`` (``metadata.dotprompt`` keeps
name and variant for export): variants are alternatives served side by side, each with its own model and
inputs, while labels point at versions of one template over time. A file named ``_name.prompt`` is a
partial, stored as ``_partials/name``. Body translation: :mod:`pba_tunnel.formats.handlebars`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from ..templates.spec import ArgumentType, ParsedTemplate, value_matches_type
from .fields import hint_ok, split_foreign
from .handlebars import to_jinja
from .jinja_export import export_body
from .losses import Conversion, ExportedFile
from .native import FOREIGN_KEY, file_stem, native_source, template_name
from .picoschema import arguments_from_schema, picoschema

SUFFIX = ".prompt"
_CONFIG = {"temperature": "temperature", "maxOutputTokens": "max_tokens", "topP": "top_p", "stopSequences": "stop"}
_KEPT = ("output", "tools", "toolDefs", "ext", "version", "raw")
_OUT_ROLE = {"system": "system", "user": "user", "assistant": "model"}


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def partial_name(relative: str) -> str:
    """Our partial name for a Dotprompt partial (``_footer`` → ``_partials/footer``, ``a/_b`` → ``_partials/a/b``)."""
    folder, _, stem = relative.rpartition("/")
    return f"_partials/{folder + '/' if folder else ''}{stem.lstrip('_')}"


def import_dotprompt(
    text: str,
    origin: str,
    stem: str,
    max_bytes: int,
    partials: Callable[[str], str | None],
    partial_variables: Callable[[str], list[str]],
) -> Conversion:
    """One ``.prompt`` file as a native template (or, for ``_name.prompt``, a partial)."""
    data, body = split_foreign(text, max_bytes)
    if stem.rpartition("/")[2].startswith("_"):
        conversion = Conversion(partial_name(stem), origin, partial=True)
        translation = to_jinja(body.strip(), partials)
        for problem in translation.problems:
            conversion.note("body", "literal", problem)
        conversion.versions.append(translation.body.rstrip() + "\n")
        conversion.variables = translation.variables
        return conversion
    base, _, variant = stem.rpartition("/")[2].partition(".")
    original = str(data.get("name") or base)
    variant = str(data.get("variant") or variant)
    name = template_name(f"{original}-{variant}" if variant else original)
    conversion = Conversion(name, origin)
    extra: dict[str, Any] = {}
    if original != name or variant:
        extra["name"] = original
    if variant:
        extra["variant"] = variant
        conversion.note("variant", "kept", f"variant '{variant}' imported as its own template '{name}'")
    ours = _mapping(data.get(FOREIGN_KEY))
    input_block = _mapping(data.get("input"))
    defaults = _mapping(input_block.get("default"))
    arguments = arguments_from_schema(conversion, input_block.get("schema"), defaults)
    schemas = {a["name"]: a.pop("_schema") for a in arguments if "_schema" in a}
    if schemas:
        extra["schemas"] = schemas
    translation = to_jinja(body.strip(), partials)
    for problem in translation.problems:
        conversion.note("body", "literal", problem)
    declared = {a["name"] for a in arguments}
    used = list(translation.variables)
    for included in translation.partials:
        used += partial_variables(included)
    for variable in dict.fromkeys(used):
        if variable not in declared:
            kind: ArgumentType = "json" if variable in translation.structured else "string"
            argument: dict[str, Any] = {"name": variable, "description": f"Value for '{variable}'"}
            if defaults.get(variable) is not None and value_matches_type(defaults[variable], kind):
                argument["default"] = defaults[variable]
            else:
                argument["required"] = False
            arguments.append({**argument, "type": kind} if kind == "json" else argument)
            declared.add(variable)
            conversion.note(f"arguments.{variable}", "added", f"used in the body, not in the schema: optional {kind}")
    for argument in arguments:
        if argument.get("type", "string") != "string" and argument["name"] in translation.printed:
            # Handlebars prints JavaScript's text of a value (20, true, a,b); the sandbox prints Python's.
            conversion.note(
                f"arguments.{argument['name']}",
                "approximated",
                f"a {argument['type']} value printed as is: Python's text (20.0, True, ['a']) not JavaScript's",
            )
    model: dict[str, Any] = {}
    if isinstance(data.get("model"), str):
        model["model"] = data["model"]
    config = dict(data["config"]) if isinstance(data.get("config"), dict) else {}
    for theirs, key in _CONFIG.items():
        if theirs in config and hint_ok(key, config[theirs]):
            model[key] = config.pop(theirs)
    if config:
        extra["config"] = config
        conversion.note("config", "kept", "settings beyond ours kept in metadata.dotprompt.config")
    for key in _KEPT:
        if key in data:
            extra[key] = data[key]
            conversion.note(key, "kept", f"no equivalent here: kept in metadata.dotprompt.{key}")
    known = {"name", "variant", "description", "model", "config", "input", *_KEPT, FOREIGN_KEY}
    for key in data:
        if key not in known:
            extra.setdefault("other", {})[key] = data[key]
            conversion.note(key, "kept", "kept in metadata.dotprompt.other")
    metadata = dict(ours.get("metadata", {})) if isinstance(ours.get("metadata"), dict) else {}
    if extra:
        metadata["dotprompt"] = extra
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        description = f"Dotprompt prompt {original}" + (f" ({variant})" if variant else "")
        conversion.note("description", "added", "none in the file: made from the name")
    body_text = translation.body.strip()
    if not body_text.startswith(("system:", "user:", "assistant:")):
        body_text = "user:\n" + body_text  # Dotprompt's first message is a user message, as ours
    front = {
        "name": name,
        "title": ours.get("title"),
        "description": " ".join(description.split())[:2000],
        "category": ours.get("category"),
        "tags": ours.get("tags", []),
        "arguments": [{k: v for k, v in a.items() if v is not None} for a in arguments],
        "model": model,
        "metadata": metadata,
        "internal": ours.get("internal") is True,
    }
    conversion.versions.append(native_source(front, body_text))
    return conversion


def export_partial(name: str, source: str) -> ExportedFile:
    """A partial (``_partials/x``, ``_partials/a/x``) as the Dotprompt partial file ``_x.prompt`` (``a/_x.prompt``)."""
    folders = [file_stem(part) for part in name.split("/")[1:]]
    relative = "/".join([*folders[:-1], f"_{folders[-1]}{SUFFIX}"])
    exported = ExportedFile(relative, "", name)
    body = export_body(source, "handlebars", None)
    for problem in body.problems:
        exported.note("body", "literal", problem)
    exported.text = body.text.rstrip() + "\n"
    return exported


def export_dotprompt(parsed: ParsedTemplate, category: str | None) -> ExportedFile:
    """One native template as a ``.prompt`` file."""
    spec = parsed.spec
    metadata = dict(spec.metadata)
    extra = metadata.pop("dotprompt", {})
    extra = extra if isinstance(extra, dict) else {}
    base = str(extra.get("name", spec.name))
    variant = extra.get("variant")
    exported = ExportedFile(
        f"{file_stem(base)}{'.' + file_stem(str(variant)) if variant else ''}{SUFFIX}", "", spec.name
    )
    front: dict[str, Any] = {}
    if base != spec.name and not variant:
        front["name"] = base
    if spec.description:
        front["description"] = spec.description
    config = dict(extra.get("config", {})) if isinstance(extra.get("config"), dict) else {}
    if spec.model is not None:
        hints = spec.model.model_dump(exclude_none=True)
        if "model" in hints:
            front["model"] = hints.pop("model")
        config.update({theirs: hints[key] for theirs, key in _CONFIG.items() if key in hints})
    if config:
        front["config"] = config
    schemas = extra.get("schemas", {}) if isinstance(extra.get("schemas"), dict) else {}
    schema, defaults = picoschema(list(spec.arguments), schemas)
    if schema:
        front["input"] = {"schema": schema, **({"default": defaults} if defaults else {})}
    for key in _KEPT:
        if key in extra:
            front[key] = extra[key]
    front.update(extra.get("other", {}) if isinstance(extra.get("other"), dict) else {})
    ours = {
        k: v
        for k, v in (
            ("title", spec.title),
            ("category", category),
            ("tags", list(spec.tags)),
            ("metadata", metadata),
            ("internal", spec.internal),
        )
        if v
    }
    if ours:
        front[FOREIGN_KEY] = ours
        exported.note(", ".join(ours), "kept", f"no equivalent in Dotprompt: kept under '{FOREIGN_KEY}'")
    names = {a.name for a in spec.arguments}
    pieces = []
    for index, part in enumerate(parsed.parts):
        body = export_body(part.source, "handlebars", names)
        for problem in body.problems:
            exported.note("body", "literal", problem)
        marker = "" if index == 0 and part.role == "user" else '{{role "' + _OUT_ROLE[part.role] + '"}}\n'
        pieces.append(marker + body.text.strip("\n") + "\n")
    header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1_000_000) if front else ""
    exported.text = f"---\n{header}---\n" + "".join(pieces)
    return exported
