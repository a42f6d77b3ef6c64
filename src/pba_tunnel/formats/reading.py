"""Find and convert the files of one import in another tool's format (no store involved)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from ..errors import ConversionError, PbaError
from ..files import inside
from .dotprompt import import_dotprompt
from .dotprompt import partial_name as dotprompt_partial
from .langfuse import References, import_langfuse, read_prompts
from .losses import Conversion
from .prompty import import_prompty

ForeignFormat = Literal["prompty", "dotprompt", "langfuse"]
SUFFIXES: dict[ForeignFormat, str] = {"prompty": ".prompty", "dotprompt": ".prompt", "langfuse": ".json"}
LANGFUSE_FILE_FACTOR = 64  # a Langfuse file holds every version of a prompt: this many template sizes


def foreign_files(path: Path, suffix: str) -> list[Path]:
    """``path`` itself, or the files ending in ``suffix`` under it (hidden ones and links leading out skipped)."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise PbaError(f"{path} does not exist: pass a file or a folder")
    root = path.resolve()
    found = []
    for top, folders, names in os.walk(path):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        for name in sorted(names):
            file = Path(top) / name
            if name.endswith(suffix) and not name.startswith(".") and file.is_file():
                found.append(file)
    # A link leading out of the folder is listed so that reading it fails with a message.
    return [f for f in found if inside(f, root) or f.is_symlink()]


def read_bounded(file: Path, limit: int, root: Path | None) -> str:
    """The text of ``file``, refused before reading when larger than ``limit`` bytes or linked out of ``root``."""
    if root is not None and not inside(file, root.resolve()):
        raise ConversionError(f"a symbolic link leading outside {root}: not followed")
    try:
        size = file.stat().st_size
        if size > limit:
            raise ConversionError(f"the file is {size:,} bytes; the limit is {limit:,} (PBA_TUNNEL_MAX_SOURCE_BYTES)")
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConversionError("the file is not UTF-8 text") from None
    except OSError as exc:
        raise ConversionError(f"cannot read the file: {exc.strerror}") from None


def convert_files(
    path: Path, file_format: ForeignFormat, max_bytes: int, known_partials: Iterable[str] = ()
) -> tuple[list[Conversion], list[tuple[str, str]]]:
    """Every template (and partial) the files under ``path`` hold, and the files that failed with why."""
    files = foreign_files(path, SUFFIXES[file_format])
    root = path if path.is_dir() else None
    failed: list[tuple[str, str]] = []
    conversions: list[Conversion] = []
    if file_format == "langfuse":
        prompts = []
        for file in files:
            try:
                text = read_bounded(file, LANGFUSE_FILE_FACTOR * max_bytes, root)
                prompts += read_prompts(text, str(file))
            except PbaError as exc:
                failed.append((str(file), exc.message))
        refs = References(prompts)
        conversions = import_langfuse(prompts, str(path), refs) if prompts else []
        return [*refs.partials.values(), *conversions], failed
    texts: dict[Path, str] = {}
    for file in files:
        try:
            texts[file] = read_bounded(file, max_bytes, root)
        except PbaError as exc:
            failed.append((str(file), exc.message))
    if file_format == "prompty":
        for file, text in texts.items():
            try:
                conversions.append(import_prompty(text, str(file), file.stem, max_bytes))
            except PbaError as exc:
                failed.append((str(file), exc.message))
        return conversions, failed

    def relative(file: Path) -> str:
        return file.relative_to(path).with_suffix("").as_posix() if root is not None else file.stem

    partials = {dotprompt_partial(relative(f)): f for f in texts if f.name.startswith("_")}
    names = set(known_partials) | set(partials)
    variables: dict[str, list[str]] = {}

    def lookup(name: str) -> str | None:
        ours = dotprompt_partial(name)
        return ours if ours in names else None

    for file in sorted(texts, key=lambda f: not f.name.startswith("_")):  # partials first
        try:
            conversion = import_dotprompt(
                texts[file], str(file), relative(file), max_bytes, lookup,
                lambda name: variables.get(name, []),
            )  # fmt: skip
        except PbaError as exc:
            failed.append((str(file), exc.message))
            continue
        if conversion.partial:
            variables[conversion.name] = conversion.variables
        conversions.append(conversion)
    return conversions, failed
