"""Keep the store in step with template files: import a file or folder, export to a folder."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import NotFoundError, PbaError
from .files import inside, make_folder, write_inside
from .formats.detect import detect_foreign
from .formats.transfer import import_foreign
from .importers import ImportFormat, detect_format
from .importers.loader import import_prompts_chat
from .importers.report import IMPORT_BATCH, ImportReport, Progress, record
from .paging import iter_templates
from .service import TemplateService, template_write
from .store import BatchItem, TemplateWrite
from .templates.partials import PARTIALS_PREFIX
from .templates.variables import PartialLookup

TEMPLATE_SUFFIX = ".md"
_FOLDER_CATEGORY = re.compile(r"[a-z0-9][a-z0-9_-]*")


@dataclass(frozen=True)
class TemplateFile:
    """A file found under an import root, with what its location says about it."""

    path: Path
    relative: str  # posix path relative to the root
    category: str | None
    alone: bool = False  # imported by itself: its folder is only a guess at its category
    root: Path | None = None  # the folder it was found in: it is read only if it resolves inside it
    resolved_root: Path | None = None  # ``root`` resolved when the folder was listed (once, not once per file)

    @property
    def is_partial(self) -> bool:
        """Files under ``_partials/`` are includable pieces, never prompts."""
        return self.relative.startswith(PARTIALS_PREFIX)


def find_template_files(path: Path) -> list[TemplateFile]:
    """Template files under ``path`` (or ``path`` itself); partials first so templates can include them.

    Symbolic links (files or folders) that lead outside ``path`` are listed too, so that reading them fails
    with a message (:func:`prepare_file`) instead of their being silently left out; no link is followed out.
    """
    if path.is_file():
        folder = path.parent.name
        if f"{folder}/" == PARTIALS_PREFIX:
            return [TemplateFile(path, f"{PARTIALS_PREFIX}{path.name}", None)]
        category = folder if _FOLDER_CATEGORY.fullmatch(folder) and folder != "templates" else None
        return [TemplateFile(path, path.name, category, alone=True)]
    if not path.is_dir():
        raise PbaError(f"{path} does not exist: pass a template file or a folder of them")
    root = path.resolve()
    files = []
    # os.walk does not descend into linked folders (followlinks=False): a link inside the folder is not
    # walked twice, and one leading out is reported below.
    for top, folders, names in os.walk(path):
        here = Path(top)
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        found = [here / f for f in folders if (here / f).is_symlink()]
        found += [here / n for n in names if n.endswith(TEMPLATE_SUFFIX) and not n.startswith(".")]
        for file in found:
            escapes = file.is_symlink() and not inside(file, root)
            if not escapes and not file.is_file():
                continue  # a linked folder inside, a dangling link, a socket named *.md
            relative = file.relative_to(path)
            folder = relative.parent.as_posix()
            category = None if folder == "." else folder
            files.append(TemplateFile(file, relative.as_posix(), category, root=path, resolved_root=root))
    files.sort(key=lambda f: (not f.is_partial, f.relative))
    return files


def read_template_file(file: TemplateFile) -> str:
    """The text of ``file``; PbaError if it is a link leading outside its folder, unreadable or not UTF-8."""
    if file.root is not None and not inside(file.path, file.resolved_root or file.root.resolve()):
        raise PbaError(f"a symbolic link leading outside {file.root}: not followed")
    try:
        return file.path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PbaError("the file is not UTF-8 text") from None
    except OSError as exc:
        raise PbaError(f"cannot read the file: {exc.strerror}") from None


async def import_path(
    service: TemplateService,
    path: Path,
    *,
    origin: str = "import",
    progress: Progress | None = None,
    file_format: ImportFormat | None = None,
    strict: bool = False,
) -> ImportReport:
    """Import every template under ``path``, in transactions of ``IMPORT_BATCH`` files; bad files are skipped.

    A file that does not validate, or whose write the store refuses, is reported and left out; the others of
    its batch are written. ``file_format`` None detects it (:func:`detect_format`): a prompts.chat CSV is
    imported row by row; Prompty, Dotprompt and Langfuse files are converted (``strict``: only when nothing
    would be lost).
    """
    if file_format is None:
        file_format = detect_foreign(path, service.limits.max_source_bytes) or detect_format(path)
    if file_format in ("prompty", "dotprompt", "langfuse"):
        return await import_foreign(service, path, file_format, strict=strict, origin=origin, progress=progress)
    if file_format == "prompts-chat":
        return await import_prompts_chat(service, path, origin=origin, progress=progress)
    report = ImportReport()
    files = find_template_files(path)
    seen: dict[str, str] = {}
    batch: list[tuple[TemplateFile, BatchItem]] = []

    async def flush() -> None:
        results = await service.save_batch([item for _, item in batch], origin=origin, restore_deleted=True)
        for (file, _), result in zip(batch, results, strict=True):
            record(report, str(file.path), result)
        batch.clear()

    for done, file in enumerate(files, start=1):
        if batch and batch[-1][0].is_partial and not file.is_partial:
            await flush()  # templates are validated against the partials: store those first
        try:
            item = prepare_file(service, file, file.category)
            if file.alone:
                # Keep the stored category (unless the front matter sets one): an exported file re-imported by
                # itself must not gain its export folder as a category and so a new version.
                stored = await _stored_category(service, item.name, default=item.category)
                if stored != item.category:
                    item = prepare_file(service, file, stored)
            if item.name in seen:
                raise PbaError(f"the name '{item.name}' is already used by {seen[item.name]} in this import")
            seen[item.name] = file.relative
        except PbaError as exc:
            report.failed.append((str(file.path), exc.message))
        else:
            batch.append((file, BatchItem(item, f"imported from {file.relative}")))
            if len(batch) >= IMPORT_BATCH:
                await flush()
        if progress is not None:
            progress(done, len(files))
    if batch:
        await flush()
    return report


async def _stored_category(service: TemplateService, name: str, *, default: str | None) -> str | None:
    try:
        stored = await service.get(name, include_deleted=True)
    except NotFoundError:
        return default
    return stored.category if stored.kind == "prompt" else default


def prepare_file(
    service: TemplateService, file: TemplateFile, category: str | None, *, partials: PartialLookup | None = None
) -> TemplateWrite:
    """Read and validate one file as what the store keeps (a template, or a partial under ``_partials/``)."""
    source = read_template_file(file)
    if file.is_partial:
        return service.check_partial(file.relative, source, path=str(file.path))
    parsed = service.parse(
        source, path=str(file.path), default_name=file.path.stem, default_category=category, partials=partials
    )
    return template_write(parsed)


def export_path(name: str, category: str | None, kind: str) -> str:
    """Where a template goes in an export folder, so that importing the folder gives it back unchanged."""
    if kind == "partial":
        return name
    return f"{category}/{name}{TEMPLATE_SUFFIX}" if category else f"{name}{TEMPLATE_SUFFIX}"


@dataclass
class ExportReport:
    """What an export wrote, and the files it refused with why."""

    written: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


async def export_to(service: TemplateService, directory: Path, *, progress: Progress | None = None) -> ExportReport:
    """Write the current version of every live template (and partial) under ``directory``.

    Nothing is written through a symbolic link leading outside ``directory``; each file is written whole
    (a temporary file, then a rename), so a reader never sees half of one.
    """
    names = [
        summary
        for kind in ("partial", "prompt")
        async for summary in iter_templates(service, kind=kind, include_internal=True)
    ]
    make_folder(directory)
    root = directory.resolve()
    report = ExportReport()
    for done, summary in enumerate(names, start=1):
        stored = await service.get(summary.name)
        target = directory / export_path(stored.name, stored.category, stored.kind)
        try:
            write_inside(directory, root, target, stored.source)
        except PbaError as exc:
            report.failed.append((str(target), exc.message))
        else:
            report.written.append(target)
        if progress is not None:
            progress(done, len(names))
    return report
