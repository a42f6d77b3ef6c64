"""Import converted templates into the store (every version, in order) and export the store in a format."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import LossyConversionError, NotFoundError, PbaError
from ..files import inside, write_whole
from ..importers.report import ImportReport, Progress
from ..paging import iter_templates
from ..service import TemplateService, template_write
from ..store import WriteResult
from ..templates.spec import ParsedTemplate
from .dotprompt import export_dotprompt, export_partial
from .langfuse import export_langfuse
from .losses import Conversion, ExportedFile, Loss
from .native import safe_relative
from .prompty import export_prompty
from .reading import ForeignFormat, convert_files

ExportFormat = Literal["prompty", "dotprompt", "langfuse"]


@dataclass
class ForeignImportReport(ImportReport):
    """An import report with the fields the other format's files could not carry over."""

    losses: list[Loss] = field(default_factory=list)


def refuse_lossy(losses: list[Loss], what: str) -> None:
    """Raise ``LossyConversionError`` when any of ``losses`` changes a template (``--strict``)."""
    lossy = [loss for loss in losses if loss.lossy]
    if lossy:
        raise LossyConversionError(
            f"{len(lossy)} lossy conversion(s) in this {what}; nothing was written", count=len(lossy)
        )


async def import_foreign(
    service: TemplateService,
    path: Path,
    file_format: ForeignFormat,
    *,
    strict: bool = False,
    origin: str = "import",
    progress: Progress | None = None,
) -> ForeignImportReport:
    """Import the Prompty, Dotprompt or Langfuse files under ``path``; with ``strict``, only lossless ones."""
    known = [t.name async for t in iter_templates(service, kind="partial", include_internal=True)]
    conversions, failed = convert_files(path, file_format, service.limits.max_source_bytes, known)
    report = ForeignImportReport(failed=list(failed))
    for conversion in conversions:
        report.losses.extend(conversion.losses)
    if strict:
        refuse_lossy(report.losses, "import")
    seen: dict[str, str] = {}
    for done, conversion in enumerate(conversions, start=1):
        try:
            if conversion.name in seen:
                raise PbaError(
                    f"the name '{conversion.name}' is already used by {seen[conversion.name]} in this import"
                )
            seen[conversion.name] = conversion.origin
            result = await _save_versions(service, conversion, file_format, origin)
        except PbaError as exc:
            report.failed.append((conversion.origin, exc.message))
        else:
            bucket = report.added if result.created else report.updated if result.changed else report.unchanged
            bucket.append(result.name)
        if progress is not None:
            progress(done, len(conversions))
    return report


async def _save_versions(
    service: TemplateService, conversion: Conversion, file_format: str, origin: str
) -> WriteResult:
    """Store the versions not stored yet: those after the last one the template's history already holds.

    So importing the same file again adds nothing, and a version edited here after an import stays current
    until the file brings a version of its own.
    """
    if conversion.partial:
        items = [service.check_partial(conversion.name, s, path=conversion.origin) for s in conversion.versions]
    else:
        items = [template_write(service.parse(s, path=conversion.origin)) for s in conversion.versions]
    try:
        known = {v.content_hash for v in await service.history(conversion.name)}
    except NotFoundError:
        known = set()
    stored = [index for index, item in enumerate(items) if item.content_hash in known]
    if stored:
        items = items[stored[-1] + 1 :]
    message = f"imported from {file_format}: {conversion.origin}"
    results = [await service.save(i, origin=origin, message=message, restore_deleted=True) for i in items]
    if not results:
        return WriteResult(name=conversion.name, version=0, created=False, changed=False)
    changed = any(r.changed for r in results)
    return results[-1].model_copy(update={"created": results[0].created, "changed": changed})


@dataclass
class ForeignExportReport:
    """What an export in another format wrote, refused, and could not carry over."""

    written: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    losses: list[Loss] = field(default_factory=list)


async def _parsed_versions(service: TemplateService, name: str, every: bool) -> list[tuple[ParsedTemplate, int]]:
    stored = await service.get(name)
    numbers = [v.version for v in await service.history(name)] if every else [stored.version]
    versions = []
    for number in numbers:
        old = stored if number == stored.version else await service.get(name, number)
        try:
            parsed = service.parse(old.source, default_name=name, default_category=old.category)
        except PbaError:
            continue  # an old version that no longer validates (a partial it used is gone)
        versions.append((parsed, number))
    return versions


async def render_files(service: TemplateService, file_format: ExportFormat) -> list[ExportedFile]:
    """Every live template (every version for Langfuse) and, for Dotprompt, every partial, as files."""
    files: list[ExportedFile] = []
    partials = (await service.sources("partial")).get
    if file_format == "dotprompt":
        async for summary in iter_templates(service, kind="partial", include_internal=True):
            files.append(export_partial(summary.name, (await service.get(summary.name)).source))
    async for summary in iter_templates(service, kind="prompt", include_internal=True):
        versions = await _parsed_versions(service, summary.name, file_format == "langfuse")
        if not versions:
            continue
        parsed, _number = versions[-1]
        if file_format == "langfuse":
            files.append(export_langfuse(versions, summary.category, partials))
        elif file_format == "prompty":
            files.append(export_prompty(parsed, summary.category, partials))
        else:
            files.append(export_dotprompt(parsed, summary.category))
    return files


async def export_foreign(
    service: TemplateService,
    directory: Path,
    file_format: ExportFormat,
    *,
    strict: bool = False,
    progress: Progress | None = None,
) -> ForeignExportReport:
    """Write the store under ``directory`` in ``file_format``; with ``strict``, only when nothing is lost."""
    files = await render_files(service, file_format)
    report = ForeignExportReport()
    for file in files:
        report.losses.extend(file.losses)
    if strict:
        refuse_lossy(report.losses, "export")
    directory.mkdir(parents=True, exist_ok=True)
    root = directory.resolve()
    taken: dict[str, str] = {}
    for done, file in enumerate(files, start=1):
        target = directory / file.relative
        try:
            relative = safe_relative(file.relative)
            if relative.lower() in taken:
                raise PbaError(f"{taken[relative.lower()]} is already written to {relative}")
            taken[relative.lower()] = file.template
            if not inside(target.parent, root) or not inside(target, root):
                raise PbaError(f"a symbolic link leading outside {directory}: not written through")
            target.parent.mkdir(parents=True, exist_ok=True)
            write_whole(target, file.text)
        except PbaError as exc:
            report.failed.append((str(target), exc.message))
        except OSError as exc:
            report.failed.append((str(target), f"cannot write the file: {exc.strerror}"))
        else:
            report.written.append(target)
        if progress is not None:
            progress(done, len(files))
    return report
