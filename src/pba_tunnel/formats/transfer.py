"""Export the store in another tool's format (imports: ``importing``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import PbaError
from ..files import make_folder, write_inside
from ..importers.report import Progress
from ..paging import iter_templates
from ..service import TemplateService
from ..templates.spec import ParsedTemplate
from .dotprompt import export_dotprompt, export_partial
from .importing import ForeignImportReport as ForeignImportReport
from .importing import import_foreign as import_foreign
from .importing import refuse_lossy
from .langfuse import export_langfuse
from .losses import ExportedFile, Loss
from .native import safe_relative
from .prompty import export_prompty

ExportFormat = Literal["prompty", "dotprompt", "langfuse"]


@dataclass
class ForeignExportReport:
    """What an export in another format wrote, refused, and could not carry over."""

    written: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    losses: list[Loss] = field(default_factory=list)


async def _parsed_versions(
    service: TemplateService, name: str, every: bool
) -> tuple[list[tuple[ParsedTemplate, int]], dict[int, list[str]]]:
    """The versions to export (every one, or the current), parsed, and the store's labels by version."""
    stored = await service.get(name)
    history = await service.history(name) if every else []
    numbers = [v.version for v in history] if every else [stored.version]
    labels = {v.version: v.labels for v in history if v.labels}
    versions = []
    for number in numbers:
        old = stored if number == stored.version else await service.get(name, number)
        try:
            parsed = service.parse(old.source, default_name=name, default_category=old.category)
        except PbaError:
            continue  # an old version that no longer validates (a partial it used is gone)
        versions.append((parsed, number))
    return versions, labels


async def render_files(service: TemplateService, file_format: ExportFormat) -> list[ExportedFile]:
    """Every live template (every version for Langfuse) and, for Dotprompt, every partial, as files."""
    files: list[ExportedFile] = []
    partials = (await service.sources("partial")).get
    if file_format == "dotprompt":
        async for summary in iter_templates(service, kind="partial", include_internal=True):
            files.append(export_partial(summary.name, (await service.get(summary.name)).source))
    async for summary in iter_templates(service, kind="prompt", include_internal=True):
        versions, labels = await _parsed_versions(service, summary.name, file_format == "langfuse")
        if not versions:
            continue
        parsed, _number = versions[-1]
        if file_format == "langfuse":
            files.append(export_langfuse(versions, summary.category, partials, labels))
        else:
            file = (
                export_prompty(parsed, summary.category, partials)
                if file_format == "prompty"
                else export_dotprompt(parsed, summary.category)
            )
            stored_labels = (await service.get(summary.name)).labels
            if stored_labels:  # one file holds one version: a label has nothing to point at
                moved = ", ".join(f"{label} -> v{version}" for label, version in sorted(stored_labels.items()))
                file.note("labels", "dropped", f"{file_format} files have no labels; not written: {moved}")
            files.append(file)
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
    make_folder(directory)
    root = directory.resolve()
    taken: dict[str, str] = {}
    for done, file in enumerate(files, start=1):
        target = directory / file.relative
        try:
            relative = safe_relative(file.relative)
            if relative.lower() in taken:
                raise PbaError(f"{taken[relative.lower()]} is already written to {relative}")
            taken[relative.lower()] = file.template
            write_inside(directory, root, target, file.text)
        except PbaError as exc:
            report.failed.append((str(target), exc.message))
        else:
            report.written.append(target)
        if progress is not None:
            progress(done, len(files))
    return report
