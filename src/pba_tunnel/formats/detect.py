"""Which other tool's format a path holds, by extension and, for JSON, by content (``--format auto``)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import PbaError
from .langfuse import looks_like_langfuse
from .reading import LANGFUSE_FILE_FACTOR, SUFFIXES, ForeignFormat, read_bounded

_BY_SUFFIX = {suffix: name for name, suffix in SUFFIXES.items()}


def _kinds(folder: Path, max_bytes: int) -> set[ForeignFormat]:
    found: set[ForeignFormat] = set()
    json_checked = 0
    for top, folders, names in os.walk(folder):
        folders[:] = [f for f in folders if not f.startswith(".")]
        for name in names:
            kind = _BY_SUFFIX.get(Path(name).suffix.lower())
            if kind is None or name.startswith(".") or kind in found:
                continue
            if kind == "langfuse":
                json_checked += 1
                if json_checked > 20 or not _is_langfuse(Path(top, name), max_bytes):
                    continue  # some other JSON (a settings file) beside templates
            found.add(kind)
    return found


def _is_langfuse(path: Path, max_bytes: int) -> bool:
    try:
        return looks_like_langfuse(read_bounded(path, LANGFUSE_FILE_FACTOR * max_bytes, None))
    except PbaError:
        return False


def detect_foreign(path: Path, max_bytes: int) -> ForeignFormat | None:
    """``prompty``, ``dotprompt`` or ``langfuse`` for such a file or folder; None for anything else.

    A folder is of the one other format whose files it holds (a README.md beside them does not make it a
    native folder), otherwise native; one holding files of two other formats is refused: pass ``--format``.
    """
    if path.is_file():
        found = _BY_SUFFIX.get(path.suffix.lower())
        if found == "langfuse":
            return "langfuse" if _is_langfuse(path, max_bytes) else None
        return found
    if not path.is_dir():
        return None
    kinds = sorted(_kinds(path, max_bytes))
    if len(kinds) > 1:
        raise PbaError(f"{path} holds files of several formats ({', '.join(kinds)}): pass --format")
    return kinds[0] if kinds else None
