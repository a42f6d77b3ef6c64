"""Build native template sources (YAML front matter + Jinja body) and read their front matter back."""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath
from typing import Any

import yaml

from ..local_errors import UnsafeExportPathError
from ..templates.bounded_yaml import load_bounded
from ..templates.sections import split_front_matter

MAX_NAME = 128
# Front-matter keys in the order a person would write them (and a stable order makes re-imports identical).
_ORDER = ("name", "title", "description", "category", "tags", "arguments", "model", "metadata", "internal")
FOREIGN_KEY = "pba_tunnel"  # where an export keeps our fields that the other format has no place for


def native_source(front: dict[str, Any], body: str) -> str:
    """A native template source: the front matter (keys in a fixed order, empty ones left out) and the body."""
    ordered = {key: front[key] for key in _ORDER if key in front and front[key] not in (None, [], {}, False)}
    header = yaml.safe_dump(ordered, allow_unicode=True, sort_keys=False, width=1_000_000)
    return f"---\n{header}---\n{body.rstrip()}\n"


def front_matter(source: str) -> dict[str, Any]:
    """The front matter of a stored (so already valid) native source, as plain data."""
    data = load_bounded(split_front_matter(source)[0])
    return data if isinstance(data, dict) else {}


def body_of(source: str) -> str:
    """The body (after the front matter) of a native source."""
    return split_front_matter(source)[1]


def template_name(text: str) -> str:
    """A valid template name (``^[a-z0-9][a-z0-9_-]*$``) for a name written in another tool."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", ascii_text).lower()
    name = re.sub(r"[^a-z0-9_-]+", "-", spaced).strip("-_")[:MAX_NAME].strip("-_")
    return name or "prompt"


def safe_relative(relative: str) -> str:
    """``relative`` when it is a plain relative path inside the export folder; PbaError otherwise."""
    path = PurePosixPath(relative)
    if (
        not relative
        or "\\" in relative
        or path.is_absolute()
        or re.match(r"^[A-Za-z]:", relative)
        or any(part in ("", ".", "..") or part.startswith(".") for part in relative.split("/"))
    ):
        raise UnsafeExportPathError(relative)
    return relative


def file_stem(name: str) -> str:
    """A file name stem for a template name (template names are already safe; this guards the rule)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip(".-") or "prompt"
    return stem[:MAX_NAME]
