"""Load front-matter YAML within fixed bounds, with the same bounds for the C and the pure-Python loader.

A pre-pass over the parser's events (the parser keeps its own stack, so it does not recurse) counts alias
uses, nesting depth, entries per collection and the size the document would have with every alias
expanded, before anything is composed or constructed. Only a document within the bounds is loaded.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

MAX_ALIASES = 100
MAX_DEPTH = 32
MAX_ENTRIES = 1000  # items of a list, or key/value pairs of a mapping
MAX_INTEGER_BITS = 64
DEFAULT_MAX_EXPANDED = 2 * 100 * 1024  # parse_template passes twice its max_source_bytes
# YAML 1.1 base-60 numbers ("1:30:00"): building one of many parts multiplies ever larger integers.
_NUMBER_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})
_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9]){8,}(?:\.[0-9_]*)?")

# libyaml's loader when PyYAML was built with it (about 10x faster), else the pure-Python one.
FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlBoundsError(ValueError):
    """The YAML is well-formed but beyond a bound; ``line`` is 0-based within the YAML text."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _line(event: yaml.Event) -> int | None:
    mark = getattr(event, "start_mark", None)
    return mark.line if mark is not None else None


def check_bounds(
    text: str, max_expanded: int = DEFAULT_MAX_EXPANDED, loader: type[yaml.SafeLoader] = FAST_LOADER
) -> None:
    """Raise ``YamlBoundsError`` when ``text`` exceeds a bound (``yaml.YAMLError`` when it does not parse)."""
    # One frame per open collection: [expanded size so far, child nodes, child nodes allowed, anchor].
    stack: list[list[Any]] = [[0, 0, MAX_ENTRIES, None]]
    anchors: dict[str, int] = {}
    aliases = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            if len(stack) > MAX_DEPTH:
                raise YamlBoundsError(f"the YAML nests deeper than {MAX_DEPTH} levels", _line(event))
            allowed = 2 * MAX_ENTRIES if isinstance(event, yaml.MappingStartEvent) else MAX_ENTRIES
            stack.append([1, 0, allowed, event.anchor])
            continue
        if isinstance(event, yaml.ScalarEvent):
            # A plain scalar (style None in PyYAML's parser, '' in libyaml's) or an explicit number tag.
            numeric = not event.style or event.tag in _NUMBER_TAGS
            if numeric and _SEXAGESIMAL.fullmatch(event.value):
                raise YamlBoundsError("a base-60 number (a:b:c…) has more than 8 parts", _line(event))
            size = 1 + len(event.value)
            if event.anchor:
                anchors[event.anchor] = size
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise YamlBoundsError(f"the YAML uses more than {MAX_ALIASES} aliases (*name)", _line(event))
            size = anchors.get(event.anchor or "", 1)
        elif isinstance(event, yaml.CollectionEndEvent):
            size, _, _, anchor = stack.pop()
            if anchor:
                anchors[anchor] = size
        else:
            continue
        frame = stack[-1]
        frame[0] += size
        frame[1] += 1
        if frame[1] > frame[2]:
            raise YamlBoundsError(f"a YAML list or mapping has more than {MAX_ENTRIES:,} entries", _line(event))
        if frame[0] > max_expanded:
            raise YamlBoundsError(
                f"the YAML would be larger than {max_expanded:,} characters with its aliases expanded",
                _line(event),
            )


def load_bounded(
    text: str, max_expanded: int = DEFAULT_MAX_EXPANDED, loader: type[yaml.SafeLoader] = FAST_LOADER
) -> Any:
    """``yaml.load`` with a safe loader, after ``check_bounds`` accepted ``text``; ``YamlBoundsError`` (a
    ``ValueError``) or ``yaml.YAMLError`` otherwise."""
    check_bounds(text, max_expanded, loader)
    data = yaml.load(text, Loader=loader)  # a safe loader: SafeLoader or CSafeLoader
    _check_integers(data)
    return data


def _check_integers(data: Any) -> None:
    """Refuse integers wider than 64 bits (0x… and 0b… literals have no digit limit) in loaded data."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, int) and item.bit_length() > MAX_INTEGER_BITS:
            raise YamlBoundsError(f"an integer in the YAML is wider than {MAX_INTEGER_BITS} bits", None)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set):
            stack.extend(item)
