"""Langfuse prompts as its API returns them: ``{name, type: text|chat, prompt, config, labels, tags, version}``.

A file holds one such object, a list of them, or ``{"data": [...]}``; every version of a name becomes a
version of one template, oldest first. Langfuse's ``{{variable}}`` (replaced as text, no logic) becomes an
argument; each label (but ``latest``, always the newest) becomes a store label on the version that carried it;
the version number, the commit message and config beyond our model hints are kept in ``metadata.langfuse``.
A ``@@@langfusePrompt:name=…|version=…@@@`` (or ``|label=…``) reference to a text prompt of the same import
becomes an include of a partial holding that version; any other reference stays literal and is reported.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import ConversionError, InvalidLabelError
from ..labels import LATEST, check_label
from ..templates.literal import escape_literal, escape_role_lines
from ..templates.spec import ParsedTemplate
from .fields import hint_ok
from .jinja_export import export_body
from .jinja_text import inline_partials
from .losses import Conversion, ExportedFile
from .native import FOREIGN_KEY, file_stem, native_source, template_name

SUFFIX = ".json"
_VARIABLE = re.compile(r"\{\{([^{}]*)\}\}")  # the name is stripped in code: no ambiguous \s* to backtrack
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
REFERENCE = re.compile(r"@@@langfusePrompt:([^@]*?)@@@")
_CONFIG = ("model", "temperature", "top_p", "max_tokens", "stop")
_ROLES = {"system", "user", "assistant"}


def read_prompts(text: str, origin: str) -> list[dict[str, Any]]:
    """The prompt objects of one Langfuse JSON file."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ConversionError(f"{origin} is not JSON: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    items = data if isinstance(data, list) else [data]
    prompts = [i for i in items if isinstance(i, dict) and isinstance(i.get("name"), str) and "prompt" in i]
    if not prompts:
        raise ConversionError(f"{origin} holds no Langfuse prompt (objects with 'name' and 'prompt')")
    return prompts


def looks_like_langfuse(text: str) -> bool:
    """Whether a JSON text is a Langfuse prompt export (for --format auto)."""
    try:
        read_prompts(text, "")
    except ConversionError:
        return False
    return True


def _reference(raw: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in raw.split("|") if "=" in part)


class References:
    """Text prompts of one import by (name, version) and (name, label), and the partials made for references."""

    MAX_DEPTH = 8  # references within referenced prompts, followed this deep

    def __init__(self, prompts: list[dict[str, Any]]) -> None:
        self.by_version: dict[tuple[str, str], dict[str, Any]] = {}
        self.partials: dict[str, Conversion] = {}
        self._depth = 0
        for prompt in prompts:
            if prompt.get("type", "text") == "text" and isinstance(prompt.get("prompt"), str):
                self.by_version[(prompt["name"], str(prompt.get("version")))] = prompt
                for label in prompt.get("labels") or []:
                    self.by_version[(prompt["name"], f"label:{label}")] = prompt

    def find(self, raw: str) -> dict[str, Any] | None:
        """The prompt a reference points at, when this import has it."""
        ref = _reference(raw)
        wanted = str(ref["version"]) if "version" in ref else f"label:{ref.get('label', 'production')}"
        return self.by_version.get((ref.get("name", ""), wanted))

    def partial(self, target: dict[str, Any]) -> Conversion | None:
        """The partial holding ``target`` (made once), or None when references nest too deeply."""
        name = partial_for(target)
        if name in self.partials:
            return self.partials[name]
        if self._depth >= self.MAX_DEPTH:
            return None
        conversion = Conversion(name, f"langfuse:{target['name']}", partial=True)
        self.partials[name] = conversion
        self._depth += 1
        try:
            conversion.versions.append(to_jinja(target["prompt"], conversion, self, conversion.variables) + "\n")
        finally:
            self._depth -= 1
        return conversion


def partial_for(prompt: dict[str, Any]) -> str:
    """The partial holding one version of a referenced text prompt."""
    return f"_partials/langfuse/{template_name(prompt['name'])}-v{prompt.get('version')}"


def to_jinja(
    text: str, conversion: Conversion, refs: References, variables: list[str], used: dict[str, str] | None = None
) -> str:
    """Langfuse text as our Jinja: variables become expressions, references includes, the rest literal.

    ``used`` collects each include made, with the reference as written (so export writes it back).
    """
    out: list[str] = []
    position = 0
    pattern = re.compile(f"{_VARIABLE.pattern}|{REFERENCE.pattern}")
    for match in pattern.finditer(text):
        out.append(escape_literal(text[position : match.start()]))
        position = match.end()
        if match.group(2) is not None:
            target = refs.find(match.group(2))
            partial = refs.partial(target) if target is not None else None
            if partial is None:
                conversion.note(
                    "prompt", "literal", f"reference {match.group(0)!r} is not in this import: kept as text"
                )
                out.append(escape_literal(match.group(0)))
            else:
                out.append('{%+ include "' + partial.name + '" +%}')  # no whitespace trimmed around it
                if used is not None:
                    used[partial.name] = match.group(2)
                variables.extend(v for v in partial.variables if v not in variables)
            continue
        name = match.group(1).strip()
        if not _IDENTIFIER.match(name):
            conversion.note("prompt", "literal", f"variable {match.group(0)!r} is no valid argument name: kept as text")
            out.append(escape_literal(match.group(0)))
            continue
        if name not in variables:
            variables.append(name)
        out.append("{{ " + name + " }}")
    out.append(escape_literal(text[position:]))
    return escape_role_lines("".join(out))


def _body(
    prompt: dict[str, Any], conversion: Conversion, refs: References, variables: list[str], used: dict[str, str]
) -> str:
    content = prompt["prompt"]
    if isinstance(content, str):
        return to_jinja(content, conversion, refs, variables, used)
    if not isinstance(content, list):
        raise ConversionError("'prompt' is neither text nor a list of chat messages")
    parts = []
    for message in content:
        if not isinstance(message, dict):
            continue
        if message.get("type") == "placeholder" or "content" not in message:
            conversion.note("prompt", "dropped", f"message placeholder {message.get('name')!r} has no equivalent")
            continue
        role = str(message.get("role", "user"))
        if role not in _ROLES:
            conversion.note("prompt", "approximated", f"role '{role}' has no equivalent: a user message")
            role = "user"
        parts.append(f"{role}:\n{to_jinja(str(message['content']), conversion, refs, variables, used)}\n")
    return "\n".join(parts)


def import_langfuse(prompts: list[dict[str, Any]], origin: str, refs: References) -> list[Conversion]:
    """Every prompt name in ``prompts`` as one template whose versions follow Langfuse's version numbers."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for prompt in prompts:
        by_name.setdefault(prompt["name"], []).append(prompt)
    conversions = []
    for original, versions in by_name.items():
        conversion = Conversion(template_name(original), f"{origin}#{original}")
        versions.sort(key=lambda p: p["version"] if isinstance(p.get("version"), int) else 0)
        for prompt in versions:
            conversion.versions.append(_version(prompt, original, conversion, refs))
        conversions.append(conversion)
    return conversions


def _version(prompt: dict[str, Any], original: str, conversion: Conversion, refs: References) -> str:
    variables: list[str] = []
    used: dict[str, str] = {}
    body = _body(prompt, conversion, refs, variables, used)
    config = dict(prompt["config"]) if isinstance(prompt.get("config"), dict) else {}
    ours = config.pop(FOREIGN_KEY, {})
    ours = ours if isinstance(ours, dict) else {}
    model = {k: config.pop(k) for k in _CONFIG if k in config and (k == "model" or hint_ok(k, config[k]))}
    if model.get("model") is not None and not isinstance(model["model"], str):
        config["model"] = model.pop("model")
    _take_labels(prompt, conversion)
    extra: dict[str, Any] = {"version": prompt.get("version")}
    if original != conversion.name:
        extra["name"] = original
    if prompt.get("type") == "chat" and isinstance(prompt.get("prompt"), list) and len(prompt["prompt"]) == 1:
        extra["type"] = "chat"  # one message would export as a text prompt otherwise
    if config:
        extra["config"] = config
    if used:
        extra["references"] = used
    if prompt.get("commitMessage"):
        extra["commitMessage"] = prompt["commitMessage"]
    metadata = dict(ours.get("metadata", {})) if isinstance(ours.get("metadata"), dict) else {}
    metadata["langfuse"] = extra
    declared = [a for a in ours.get("arguments", []) if isinstance(a, dict) and isinstance(a.get("name"), str)]
    known = {a["name"] for a in declared}
    front = {
        "name": conversion.name,
        "title": ours.get("title"),
        "description": ours.get("description") or f"Langfuse prompt {original}",
        "category": ours.get("category"),
        "tags": [str(t) for t in prompt.get("tags") or []],
        "arguments": declared + [{"name": v, "description": f"Value for '{v}'"} for v in variables if v not in known],
        "model": model,
        "metadata": metadata,
        "internal": ours.get("internal") is True,
    }
    return native_source(front, body)


def _take_labels(prompt: dict[str, Any], conversion: Conversion) -> None:
    """Point the conversion's labels at this version (the newest one carrying a label wins).

    A label this store cannot name is dropped, not kept in the metadata: the content of a version (so whether
    an import finds it stored) must not depend on where labels point.
    """
    found = prompt.get("labels")
    for label in found if isinstance(found, list) else []:
        if label == LATEST:
            continue  # the newest version, here as there
        try:
            conversion.labels[check_label(str(label))] = len(conversion.versions)
        except InvalidLabelError:
            conversion.note("labels", "dropped", f"'{label}' is no label name here (lowercase, digits, - and _)")


def export_version(
    parsed: ParsedTemplate,
    category: str | None,
    version: int,
    partials: Callable[[str], str | None],
    labels: Sequence[str] = (),
) -> tuple[dict[str, Any], list[str]]:
    """One version of a native template as the object Langfuse's API returns, and what did not translate.

    ``labels`` are the store's labels of this version (an older import's copy in the metadata is not read: the
    store's labels say where they are today).

    Includes of partials an import made from references become references again; other partials are
    written in place (Langfuse has no partials).
    """
    spec = parsed.spec
    metadata = dict(spec.metadata)
    extra = metadata.pop("langfuse", {})
    extra = extra if isinstance(extra, dict) else {}
    problems: list[str] = []
    names = {a.name for a in spec.arguments}
    messages = []
    found = extra.get("references")
    references: dict[str, str] = found if isinstance(found, dict) else {}

    def lookup(name: str) -> str | None:
        return None if name in references else partials(name)

    for part in parsed.parts:
        source, _missing = inline_partials(part.source, lookup)
        body = export_body(source, "langfuse", names, references)
        problems += body.problems
        messages.append({"role": part.role, "content": body.text.strip()})
    chat = len(messages) > 1 or messages[0]["role"] != "user" or extra.get("type") == "chat"
    config = dict(extra.get("config", {})) if isinstance(extra.get("config"), dict) else {}
    if spec.model is not None:
        config.update(spec.model.model_dump(exclude_none=True))
    generated = spec.description == f"Langfuse prompt {extra.get('name', spec.name)}"
    arguments = [a.model_dump(exclude_none=True, exclude_defaults=True) for a in spec.arguments]
    if arguments == [{"name": a["name"], "description": f"Value for '{a['name']}'"} for a in arguments]:
        arguments = []  # exactly what an import makes from the variables: nothing to keep
    ours = {
        k: v
        for k, v in (
            ("title", spec.title),
            ("description", None if generated else spec.description),
            ("category", category),
            ("arguments", arguments),
            ("metadata", metadata),
            ("internal", spec.internal),
        )
        if v
    }
    if ours:
        config[FOREIGN_KEY] = ours
    item: dict[str, Any] = {
        "name": extra.get("name", spec.name),
        "type": "chat" if chat else "text",
        "prompt": messages if chat else messages[0]["content"],
        "config": config,
        "labels": list(labels),
        "tags": list(spec.tags),
        "version": version,
    }
    if extra.get("commitMessage"):
        item["commitMessage"] = extra["commitMessage"]
    return item, problems


def _langfuse_version(parsed: ParsedTemplate) -> int | None:
    """The Langfuse version number an import recorded for this version, if any."""
    extra = parsed.spec.metadata.get("langfuse")
    number = extra.get("version") if isinstance(extra, dict) else None
    return number if isinstance(number, int) and not isinstance(number, bool) else None


def export_langfuse(
    versions: list[tuple[ParsedTemplate, int]],
    category: str | None,
    partials: Callable[[str], str | None] = lambda _: None,
    labels: Mapping[int, list[str]] | None = None,
) -> ExportedFile:
    """Every version of one template as a JSON list of Langfuse prompt objects, oldest first; ``labels`` are the
    store's labels by version number, and the newest version is also ``latest`` (as Langfuse's API says)."""
    name = versions[-1][0].spec.name
    exported = ExportedFile(f"{file_stem(name)}{SUFFIX}", "", name)
    recorded = [_langfuse_version(parsed) for parsed, _number in versions]
    numbers = [n for n in recorded if n is not None]
    if len(numbers) < len(recorded) or any(b <= a for a, b in itertools.pairwise(numbers)):
        if numbers:
            exported.note("version", "approximated", "versions edited here: numbered as in this store")
        numbers = [number for _parsed, number in versions]
    items = []
    for index, ((parsed, stored_number), number) in enumerate(zip(versions, numbers, strict=True)):
        named = list((labels or {}).get(stored_number, []))
        if index == len(versions) - 1:
            named.append(LATEST)
        item, problems = export_version(parsed, category, number, partials, named)
        for problem in problems:
            exported.note(f"version {number}", "literal", problem)
        items.append(item)
    inlined = sorted({p for parsed, _number in versions for p in parsed.partials if "/langfuse/" not in p})
    if inlined:
        exported.note("body", "inlined", f"{', '.join(inlined)}: written in place (Langfuse has no partials)")
    if any(FOREIGN_KEY in i["config"] for i in items):
        exported.note("title, description, category, arguments", "kept", f"kept in config.{FOREIGN_KEY}")
    exported.text = json.dumps(items, indent=2, ensure_ascii=False) + "\n"
    return exported
