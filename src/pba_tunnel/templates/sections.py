"""The plain-text shape of a template source: front matter, body and role-marked messages, and its hash.

Nothing here reads YAML or Jinja: a stored version is rebuilt from its facts and these splits alone.
"""

from __future__ import annotations

import hashlib

from ..errors import InvalidTemplateError
from .literal import ROLE_MARKER
from .spec import MessagePart, Role

_FRONT_MATTER_HELP = "a template starts with a line '---', then YAML front matter, then a closing '---' line"


def content_hash(source: str, category: str | None) -> str:
    """Identity of a template version: its source and the category it lives in."""
    return hashlib.sha256(f"{category or ''}\0{source}".encode()).hexdigest()


def split_front_matter(source: str, path: str | None = None) -> tuple[str, str, int]:
    """Return (front matter text, body text, 1-based line number where the body starts)."""
    lines = source.removeprefix("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise InvalidTemplateError(_FRONT_MATTER_HELP, path=path, field="front matter", line=1)
    for index in range(1, len(lines)):
        if lines[index].rstrip() == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2
    raise InvalidTemplateError(
        "front matter is not closed: add a line '---' after it", path=path, field="front matter", line=1
    )


def split_messages(body: str, first_line: int) -> list[MessagePart]:
    """Split a body on role-marker lines; text before the first marker is a user message."""
    parts: list[MessagePart] = []
    role: Role = "user"
    buffer: list[str] = []
    start = first_line

    def flush() -> None:
        text = "".join(buffer)
        if text.strip():
            parts.append(MessagePart(role=role, source=text, line=start))

    for offset, line in enumerate(body.splitlines(keepends=True)):
        marker = ROLE_MARKER.match(line.rstrip("\r\n"))
        if marker:
            flush()
            role = marker.group(1)  # type: ignore[assignment]
            buffer = []
            start = first_line + offset + 1
        else:
            buffer.append(line)
    flush()
    return parts
