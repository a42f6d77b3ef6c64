"""Text as our template source prints it literally: the inverse of reading Jinja tags and role markers.

Used wherever plain text becomes template source (importers, foreign formats). Expressions rather than
``{% raw %}`` blocks, because ``trim_blocks``/``lstrip_blocks`` would eat whitespace around block tags.
"""

from __future__ import annotations

import re

ROLE_MARKER = re.compile(r"^(system|user|assistant):[ \t]*$")  # a line that starts a message (parsing.py)
_JINJA_OPEN = re.compile(r"\{[{%#]")


def escape_literal(text: str, *, before_tag: bool = True) -> str:
    """Jinja source that prints ``text`` exactly, whatever it holds (``{{``, ``{%``, ``{#``); ``before_tag``
    when a tag may follow, so a final ``{`` is escaped too (glued to the tag it would open it)."""
    out = _JINJA_OPEN.sub(lambda m: "{{ '" + m.group(0) + "' }}", text)
    if before_tag and out.endswith("{"):
        out = out[:-1] + "{{ '{' }}"
    return out


def escape_role_lines(text: str) -> str:
    """``text`` with every line the parser would read as a role marker printed by an expression instead."""
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        marker = ROLE_MARKER.match(line.rstrip("\r\n"))
        if marker:
            lines[index] = "{{ '" + marker.group(1) + ":' }}" + line[len(marker.group(1)) + 1 :]
    return "".join(lines)
