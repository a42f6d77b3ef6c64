"""Reading a model's answer as a template and checking it against the original."""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..errors import PbaError
from ..service import TemplateService
from ..templates.bounded_yaml import load_bounded
from ..templates.sections import split_front_matter
from ..templates.spec import ArgumentSpec, ParsedTemplate

_FENCE_OPEN = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[ \t]*([^`\s]*)[^`]*$")
_SAMPLES = {"integer": 3, "number": 0.5, "boolean": True, "json": {"key": "value"}}


class AnswerProblem(Exception):
    """Why an answer is not an acceptable template (told to the model on the retry, and to the caller)."""


def extract_template(answer: str) -> str:
    """The template in a model's answer, always ending with one newline.

    An answer that starts with front matter (``---``) is the template, whole. Otherwise the first fenced block,
    read to its real closing fence: a template may hold fences of its own (the starter ``code-review`` wraps
    ``{{ code }}`` in a bare fence), so the block ends at the last fence that can close it (one at least as
    long, of the same character, with no info string) outside an inner block opened with an info string. A
    longer outer fence (four backticks, or tildes) is never closed by a shorter inner one. No fence: the whole
    answer.
    """
    if answer.lstrip("\ufeff \t\r\n").startswith("---"):
        return answer.lstrip("\ufeff").strip("\n") + "\n"
    lines = answer.splitlines()
    for start, line in enumerate(lines):
        opened = _FENCE_OPEN.match(line)
        if opened is not None:
            end = _closing_fence(lines, start, opened.group(1))
            return "\n".join(lines[start + 1 : end]).strip("\n") + "\n"
    return answer.strip("\n") + "\n"


def _closing_fence(lines: list[str], start: int, fence: str) -> int:
    """The index of the line that closes the block opened at ``start`` with ``fence`` (len(lines) if none)."""
    char, length = fence[0], len(fence)
    closing = re.compile(rf"^[ \t]{{0,3}}{re.escape(char)}{{{length},}}[ \t]*$")
    opening = re.compile(rf"^[ \t]{{0,3}}{re.escape(char)}{{{length},}}[ \t]*[^{re.escape(char)}\s]")
    end = len(lines)
    depth = 0  # inner blocks open inside the candidate block (only fences that could also close it count)
    for index in range(start + 1, len(lines)):
        if opening.match(lines[index]):
            depth += 1
        elif closing.match(lines[index]):
            if depth:
                depth -= 1
            else:
                end = index  # closes the block, or opens a bare inner one: a later candidate decides
                depth = 1
    # depth 0: the last candidate was closed again, so it opened an inner block and the block never closes
    return end if depth else len(lines)


def front_matter_keys(source: str) -> set[str]:
    """The top-level keys of a source's front matter (empty when it has none or it does not load)."""
    try:
        front_matter, _body, _line = split_front_matter(source)
        data = load_bounded(front_matter)
    except (PbaError, yaml.YAMLError, ValueError):  # ValueError: beyond the YAML bounds
        return set()
    return set(data) if isinstance(data, dict) else set()


def restore_name(candidate: str, original: str, name: str) -> str:
    """Put back a ``name:`` line the model dropped when the original had one (the store keeps it explicit)."""
    if "name" not in front_matter_keys(original) or "name" in front_matter_keys(candidate):
        return candidate
    if not candidate.lstrip("\ufeff").startswith("---"):
        return candidate  # no front matter at all: parsing reports it
    head, _, rest = candidate.partition("\n")
    return f"{head}\nname: {name}\n{rest}"


def sample_value(argument: ArgumentSpec) -> Any:
    """A value to render with: the default, else an enum value, else a sample of the declared type."""
    if argument.default is not None:
        return argument.default
    if argument.enum:
        return argument.enum[0]
    return _SAMPLES.get(argument.type, f"<{argument.name}>")


def validate_answer(
    service: TemplateService,
    candidate: str,
    original: ParsedTemplate,
    *,
    category: str | None,
    allow_argument_changes: bool,
) -> ParsedTemplate:
    """Parse ``candidate`` and check it keeps the original's name (and arguments) and renders; AnswerProblem."""
    name = original.name
    try:
        parsed = service.parse(candidate, default_name=name, default_category=category)
    except PbaError as exc:
        raise AnswerProblem(f"the template does not parse: {exc.message}") from None
    if parsed.name != name:
        raise AnswerProblem(f"the template was renamed to '{parsed.name}': keep 'name: {name}' (or leave name out)")
    if not allow_argument_changes:
        before = [a.name for a in original.spec.arguments]
        after = [a.name for a in parsed.spec.arguments]
        dropped = [a for a in before if a not in after]
        added = [a for a in after if a not in before]
        if dropped or added:
            changes = "; ".join(
                part
                for part in (
                    f"dropped argument(s) {', '.join(dropped)}" if dropped else "",
                    f"added argument(s) {', '.join(added)}" if added else "",
                )
                if part
            )
            keep = ", ".join(before) or "none"
            raise AnswerProblem(f"the arguments changed ({changes}): keep exactly these arguments: {keep}")
    values = {a.name: sample_value(a) for a in parsed.spec.arguments}
    try:
        service.renderer.render(parsed, values)
    except PbaError as exc:
        raise AnswerProblem(f"the template does not render with sample arguments: {exc.message}") from None
    return parsed
