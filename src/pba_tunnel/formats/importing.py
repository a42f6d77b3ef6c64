"""Import converted templates into the store: every version not stored yet, in bulk, then the labels they carry."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LossyConversionError, NotFoundError, PbaError
from ..importers.report import IMPORT_BATCH, ImportReport, Progress
from ..paging import iter_templates
from ..service import CLI_AUTHOR, TemplateService, template_write
from ..store import BatchItem, LabelMove, TemplateWrite, VersionInfo, WriteResult
from .losses import Conversion, Loss
from .reading import ForeignFormat, convert_files


@dataclass
class ForeignImportReport(ImportReport):
    """An import report with the fields the other format's files could not carry over and the labels moved."""

    losses: list[Loss] = field(default_factory=list)
    labels: list[LabelMove] = field(default_factory=list)


def refuse_lossy(losses: list[Loss], what: str) -> None:
    """Raise ``LossyConversionError`` when any of ``losses`` changes a template (``--strict``)."""
    lossy = [loss for loss in losses if loss.lossy]
    if lossy:
        raise LossyConversionError(
            f"{len(lossy)} lossy conversion(s) in this {what}; nothing was written", count=len(lossy)
        )


@dataclass
class _Plan:
    """One converted template: its versions, those not stored yet, and what writing them gave."""

    conversion: Conversion
    items: list[TemplateWrite]
    history: list[VersionInfo]
    first_new: int  # index in ``items`` of the first version the history lacks
    results: list[WriteResult] = field(default_factory=list)
    error: str | None = None

    @property
    def new(self) -> list[TemplateWrite]:
        """The versions to write, oldest first."""
        return self.items[self.first_new :]

    def outcome(self) -> WriteResult:
        """One result for the whole template, as a single write reports it."""
        if not self.results:
            return WriteResult(name=self.conversion.name, version=0, created=False, changed=False)
        changed = any(r.changed for r in self.results)
        return self.results[-1].model_copy(update={"created": self.results[0].created, "changed": changed})

    def version_of(self, index: int) -> int | None:
        """The store's version number of ``items[index]`` (None when it was not written)."""
        if index >= self.first_new:
            written = index - self.first_new
            return self.results[written].version if written < len(self.results) else None
        wanted = self.items[index].content_hash
        return max((v.version for v in self.history if v.content_hash == wanted), default=None)


async def import_foreign(
    service: TemplateService,
    path: Path,
    file_format: ForeignFormat,
    *,
    strict: bool = False,
    origin: str = "import",
    progress: Progress | None = None,
) -> ForeignImportReport:
    """Import the Prompty, Dotprompt or Langfuse files under ``path``; with ``strict``, only lossless ones.

    Versions are written in bulk transactions (the n-th new version of every template in one round); then each
    label a file carries is pointed at its version, by the command line's author and with admin rights.
    """
    known = [t.name async for t in iter_templates(service, kind="partial", include_internal=True)]
    conversions, failed = convert_files(path, file_format, service.limits.max_source_bytes, known)
    report = ForeignImportReport(failed=list(failed))
    for conversion in conversions:
        report.losses.extend(conversion.losses)
    if strict:
        refuse_lossy(report.losses, "import")
    unique = _unique(conversions, report)
    message = f"imported from {file_format}: {{}}"
    done = 0
    # Partials first: the templates that include them are validated against them.
    for group in ([c for c in unique if c.partial], [c for c in unique if not c.partial]):
        plans = []
        for conversion in group:
            try:
                plans.append(await _plan(service, conversion))
            except PbaError as exc:
                report.failed.append((conversion.origin, exc.message))
            done += 1
            if progress is not None:
                progress(done, len(unique))
        await _write_rounds(service, plans, message, origin)
        for plan in plans:
            if plan.error is None:
                await _move_labels(service, plan, report)
            if plan.error is not None:
                report.failed.append((plan.conversion.origin, plan.error))
                continue
            result = plan.outcome()
            bucket = report.added if result.created else report.updated if result.changed else report.unchanged
            bucket.append(result.name)
    return report


def _unique(conversions: list[Conversion], report: ImportReport) -> list[Conversion]:
    """The conversions to write: a second one of a name fails (its file is named in the report)."""
    seen: dict[str, str] = {}
    unique = []
    for conversion in conversions:
        if conversion.name in seen:
            why = f"the name '{conversion.name}' is already used by {seen[conversion.name]} in this import"
            report.failed.append((conversion.origin, why))
        else:
            seen[conversion.name] = conversion.origin
            unique.append(conversion)
    return unique


async def _plan(service: TemplateService, conversion: Conversion) -> _Plan:
    """Validate every version; the versions after the last one the template's history already holds are new.

    So importing the same file again adds nothing, and a version edited here after an import stays current
    until the file brings a version of its own.
    """
    if conversion.partial:
        items = [service.check_partial(conversion.name, s, path=conversion.origin) for s in conversion.versions]
    else:
        items = [template_write(service.parse(s, path=conversion.origin)) for s in conversion.versions]
    try:
        history = await service.history(conversion.name)
    except NotFoundError:
        history = []
    known = {v.content_hash for v in history}
    stored = [index for index, item in enumerate(items) if item.content_hash in known]
    return _Plan(conversion, items, history, stored[-1] + 1 if stored else 0)


async def _write_rounds(service: TemplateService, plans: list[_Plan], message: str, origin: str) -> None:
    """Write the new versions: round n holds the n-th new version of each template (a batch writes a name once)."""
    round_number = 0
    while True:
        batch = [p for p in plans if p.error is None and round_number < len(p.new)]
        if not batch:
            return
        for start in range(0, len(batch), IMPORT_BATCH):
            chunk = batch[start : start + IMPORT_BATCH]
            items = [BatchItem(p.new[round_number], message.format(p.conversion.origin)) for p in chunk]
            results = await service.save_batch(items, origin=origin, author=CLI_AUTHOR, restore_deleted=True)
            for plan, result in zip(chunk, results, strict=True):
                if isinstance(result, PbaError):
                    plan.error = result.message
                else:
                    plan.results.append(result)
        round_number += 1


async def _move_labels(service: TemplateService, plan: _Plan, report: ForeignImportReport) -> None:
    """Point each label the file carries at its version; a label already there is left alone (no move recorded)."""
    name = plan.conversion.name
    where = {label: v.version for v in plan.history for label in v.labels}
    for label, index in sorted(plan.conversion.labels.items()):
        version = plan.version_of(index)
        if version is None or where.get(label) == version:
            continue
        try:
            move = await service.set_label(name, label, version=version, author=CLI_AUTHOR, can_admin=True)
        except PbaError as exc:
            plan.error = f"label '{label}': {exc.message}"
            return
        if move.changed:
            report.labels.append(move)
