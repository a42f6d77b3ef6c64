"""Writing exported files safely: never through a link leading out of the folder, never half a file."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from .errors import PbaError
from .local_errors import FolderError


def make_folder(path: Path) -> None:
    """Create ``path`` and its parents; FolderError naming the path and why when it cannot be done."""
    check_folder(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FolderError(str(path), exc.strerror or type(exc).__name__) from None


def check_folder(path: Path) -> None:
    """FolderError when something other than a folder stands at ``path`` or at one of its parents.

    Creates nothing: a command can refuse such a path before it does any work.
    """
    # mkdir would say only "File exists" or "Not a directory": this names the part of the path in the way.
    # os.path's tests never raise (an unreadable parent is mkdir's to report).
    for part in (*reversed(path.parents), path):
        if os.path.exists(part) and not os.path.isdir(part):
            because = f"{part} is a file, not a folder" if os.path.isfile(part) else f"{part} is not a folder"
            raise FolderError(str(path), because)


def inside(path: Path, root: Path) -> bool:
    """Whether ``path``, with every symbolic link resolved, is ``root`` (already resolved) or under it."""
    return path.resolve().is_relative_to(root)


def write_whole(target: Path, text: str) -> None:
    """Write ``text`` to a new hidden file beside ``target``, then rename it over ``target`` (replacing any link)."""
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    # O_EXCL: never opens an existing file or link; O_BINARY (Windows only): newlines are translated once, below.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    descriptor = os.open(temporary, flags, 0o666)  # the umask applies, as for any new file
    try:
        with open(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_inside(directory: Path, root: Path, target: Path, text: str) -> None:
    """Write ``text`` to ``target`` under ``directory`` (``root``: it resolved), creating folders as needed.

    PbaError, and nothing written, when a symbolic link would lead the write outside ``directory`` (checked
    before mkdir, which would create folders through a linked sub-folder) or the file cannot be written.
    """
    if not inside(target.parent, root) or not inside(target, root):
        raise PbaError(f"a symbolic link leading outside {directory}: not written through")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_whole(target, text)
    except OSError as exc:
        raise PbaError(f"cannot write the file: {exc.strerror}") from None
