"""Turn plain prompt text with ``${Name}`` / ``${Name:default}`` placeholders into a Jinja body.

Rules (see also :mod:`pba_tunnel.importers.prompts_chat`):

- A placeholder is ``${`` + a name + an optional ``:default`` + ``}`` on one line. The name runs to the first
  ``:`` or ``}``; neither name nor default may hold ``{``, ``}`` or a line break, and the name must hold a
  letter or digit. Both are trimmed. So ``${${int}}`` is the placeholder ``${int}`` between a literal ``${``
  and ``}``; ``${{ secrets.X }}`` and a ``$`` not followed by ``{`` are plain text.
- One argument per distinct (trimmed) name, in order of first use. Its default is the first default written
  for that name (``${tone:formal}, ${tone:informal}`` is one value, ``formal``); the other defaults are kept
  as examples in its description. A name that never has a default is a required argument.
- Argument names are the original names in snake case, ASCII, ``^[a-z_][a-z0-9_]*$``, at most 64 characters
  (``Target Language`` and ``targetLanguage`` both become ``target_language``); Jinja words and globals get a
  trailing ``_``; clashes get ``_2``, ``_3``.
- Literal text is escaped so it renders exactly as written: each ``{{``, ``{%`` and ``{#`` becomes an
  expression printing it (``{{ '{{' }}``), as does a ``{`` right before a generated tag; a line holding only
  ``system:``, ``user:`` or ``assistant:`` becomes ``{{ 'user:' }}`` so it is not a role marker. Expressions
  rather than ``{% raw %}`` blocks because ``trim_blocks``/``lstrip_blocks`` would eat whitespace around
  block tags, and expressions are never touched by them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from ..templates.literal import escape_literal, escape_role_lines

# Every character str.splitlines() breaks on: the parser splits role markers with it, so a placeholder
# (and so an argument default written into the front matter) never spans one.
_BREAKS = r"\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029"
PLACEHOLDER = re.compile(rf"\$\{{([^{{}}:{_BREAKS}]+)(?::([^{{}}{_BREAKS}]*))?\}}")
# Names Jinja reads as something else (keywords, constants, the sandbox's globals, special variables).
_RESERVED = frozenset(
    {
        "and", "or", "not", "in", "is", "if", "else", "true", "false", "none", "self", "loop", "caller",
        "kwargs", "varargs", "super", "range", "dict", "namespace", "lipsum", "cycler", "joiner",
    }
)  # fmt: skip
MAX_ARGUMENT_NAME = 64


@dataclass
class Variable:
    """One argument made from the placeholders sharing a name."""

    label: str  # the name as written, trimmed
    name: str  # the argument name used in the body
    default: str | None = None  # the first default written for it
    other_defaults: list[str] = field(default_factory=list)

    def add_default(self, default: str | None) -> None:
        """Record a default written at one more place (the first one wins)."""
        if default is None or default == self.default or default in self.other_defaults:
            return
        if self.default is None:
            self.default = default
        else:
            self.other_defaults.append(default)

    @property
    def description(self) -> str:
        """What the argument is, from its original name (and the other defaults the text mentions)."""
        text = f"Value for '{self.label}'"
        if self.other_defaults:
            text += " (also written as: " + ", ".join(self.other_defaults) + ")"
        return text if len(text) <= 1000 else text[:999] + "…"


def placeholders(text: str) -> list[re.Match[str]]:
    """The ``${…}`` placeholders of ``text``, in order (matches whose name has no letter or digit skipped)."""
    return [m for m in PLACEHOLDER.finditer(text) if any(c.isalnum() for c in m.group(1))]


def argument_name(label: str, taken: set[str]) -> str:
    """A snake-case argument name for ``label`` that is not in ``taken`` (which is not changed)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", label)
    ascii_text = unicodedata.normalize("NFKD", spaced).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "_", re.sub("['`\u2019]", "", ascii_text).lower()).strip("_") or "value"
    if base[0].isdigit():
        base = f"value_{base}"
    if len(base) > MAX_ARGUMENT_NAME:
        base = base[:MAX_ARGUMENT_NAME].rsplit("_", 1)[0] or base[:MAX_ARGUMENT_NAME]
    if base in _RESERVED:
        base += "_"
    name, number = base, 1
    while name in taken:
        number += 1
        suffix = f"_{number}"
        name = base[: MAX_ARGUMENT_NAME - len(suffix)] + suffix
    return name


def to_jinja(text: str) -> tuple[str, list[Variable]]:
    """A Jinja body that renders ``text`` with every placeholder replaced by its argument, and the arguments."""
    variables: dict[str, Variable] = {}
    taken: set[str] = set()
    pieces: list[str] = []
    position = 0
    for match in placeholders(text):
        label = match.group(1).strip()
        default = match.group(2).strip() if match.group(2) is not None else None
        variable = variables.get(label)
        if variable is None:
            variable = variables[label] = Variable(label, argument_name(label, taken))
            taken.add(variable.name)
        variable.add_default(default)
        pieces.append(escape_literal(text[position : match.start()], before_tag=True))
        pieces.append("{{ " + variable.name + " }}")
        position = match.end()
    pieces.append(escape_literal(text[position:], before_tag=False))
    return escape_role_lines("".join(pieces)), list(variables.values())


def fill(text: str) -> str:
    """``text`` with each placeholder shown as its default, or as ``<Name>`` without one (for descriptions)."""
    parts: list[str] = []
    position = 0
    for match in placeholders(text):
        default = match.group(2)
        shown = default.strip() if default is not None else f"<{match.group(1).strip()}>"
        parts.append(text[position : match.start()] + shown)
        position = match.end()
    parts.append(text[position:])
    return "".join(parts)
