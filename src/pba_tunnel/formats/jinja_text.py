"""Jinja text between dialects: Jinja's defaults (Prompty) and ours (``trim_blocks``/``lstrip_blocks`` on).

A template written for Jinja's default settings renders the same under ours once every block and comment tag
carries ``+`` (``{%+ … +%}``), which turns both options off for that tag; the way back drops the ``+`` and
the newline ``trim_blocks`` swallowed, because our lexer already applied both options to the text between
tags. ``{% raw %}`` blocks take no ``+``, so their text becomes literal expressions instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from jinja2 import Environment, TemplateSyntaxError

from ..errors import ConversionError
from ..templates.literal import escape_literal
from ..templates.variables import SYNTAX_OPTIONS

_DEFAULTS = Environment()  # only lexes: never renders
_OURS = Environment(**{k: v for k, v in SYNTAX_OPTIONS.items() if k != "undefined"})


def _tokens(environment: Environment, source: str) -> list[tuple[int, str, str]]:
    try:
        return list(environment.lex(source))
    except TemplateSyntaxError as exc:
        raise ConversionError(f"line {exc.lineno}: the Jinja does not parse: {exc.message}") from None


def from_default_jinja(source: str) -> str:
    """A body written for Jinja's default whitespace settings, rewritten to render the same under ours.

    A tag gets ``+`` only where our settings would strip something: ``{%+`` after spaces that open its line,
    ``+%}`` before a newline.
    """
    tokens = _tokens(_DEFAULTS, source)
    out: list[str] = []
    in_raw = False
    for index, (_line, kind, value) in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else (0, "data", "")
        if kind == "raw_begin":
            in_raw = True
        elif kind == "raw_end":
            in_raw = False
        elif in_raw:
            out.append(escape_literal(value))
        elif kind in ("block_begin", "comment_begin") and value in ("{%", "{#"):
            line = "".join(out).rsplit("\n", 1)
            indented = line[-1] != "" and line[-1].strip(" \t") == ""
            out.append(value + "+" if indented else value)
        elif kind in ("block_end", "comment_end") and value[:1] in ("%", "#"):
            before_newline = following[1] in ("data", "raw_begin") and following[2][:1] in ("\n", "\r")
            out.append("+" + value if before_newline else value)
        else:
            out.append(value)
    return "".join(out)


def to_default_jinja(source: str) -> str:
    """A body written for our whitespace settings, rewritten to render the same under Jinja's defaults."""
    out: list[str] = []
    in_raw = False
    for _line, kind, value in _tokens(_OURS, source):
        if kind == "raw_begin":
            in_raw = True
            out.append("{% raw %}")
        elif kind == "raw_end":
            in_raw = False
            out.append("{% endraw %}")
        elif in_raw:
            out.append(value)
        elif kind in ("block_begin", "comment_begin"):
            out.append(value.rstrip("+"))
        elif kind in ("block_end", "comment_end"):
            mark = "%}" if kind == "block_end" else "#}"
            stripped = value.lstrip("+")
            # trim_blocks put the swallowed newline into this token; '-%}' keeps what it stripped: both drop.
            out.append(mark if not stripped.startswith("-") else "-" + mark)
        else:
            out.append(value)
    return "".join(out)


MAX_INLINE_DEPTH = 8
_INCLUDE = re.compile(r"""\{%[-+]?\s*include\s+(["'])(_partials/[^"']+)\1\s*[-+]?%\}""")


def inline_partials(source: str, lookup: Callable[[str], str | None], depth: int = 0) -> tuple[str, list[str]]:
    """``source`` (our dialect) with each ``{% include "_partials/…" %}`` replaced by that partial's text.

    The text between tags is taken as our lexer leaves it (whitespace options applied), so dropping the
    include tag changes nothing else; the partial loses its final newline, as an included template does.
    Returns the text and the partials that could not be inlined (unknown, or nested too deep).
    """
    out: list[str] = []
    missing: list[str] = []
    tag: list[str] = []
    in_block = False
    for _line, kind, value in _tokens(_OURS, source):
        if kind == "block_begin":
            in_block, tag = True, [value]
            continue
        if in_block:
            tag.append(value)
            if kind != "block_end":
                continue
            in_block = False
            text = "".join(tag)
            match = _INCLUDE.fullmatch(text.rstrip("\n"))
            partial = lookup(match.group(2)) if match else None
            if match is None or partial is None or depth >= MAX_INLINE_DEPTH:
                if match is not None:
                    missing.append(match.group(2))
                out.append(text)
                continue
            inner, deeper = inline_partials(partial, lookup, depth + 1)
            missing += deeper
            out.append(inner[:-1] if inner.endswith("\n") else inner)
            continue
        out.append(value)
    return "".join(out), missing
