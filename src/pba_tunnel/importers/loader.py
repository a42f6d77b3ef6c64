"""Import a prompts.chat CSV into the store: rows written in batches, failures reported per row."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import InvalidTemplateError, PbaError
from ..paging import iter_templates
from ..service import TemplateService, template_write
from ..store import BatchItem
from ..templates.bounded_yaml import load_bounded
from ..templates.sections import split_front_matter
from ..templates.spec import ParsedTemplate
from .prompts_chat import SOURCE, assign_names, read_rows, template_source
from .report import IMPORT_BATCH, ImportReport, Progress, record

MESSAGE = "imported from prompts.chat"


@dataclass
class _Existing:
    """What the store held when the import started: live prompt sources and every other name."""

    live: dict[str, str]  # name -> current source of each live prompt
    others: set[str]  # deleted templates and partials

    @classmethod
    async def load(cls, service: TemplateService) -> _Existing:
        live = await service.sources("prompt")
        every = iter_templates(service, include_deleted=True, kind=None, include_internal=True)
        others = {t.name async for t in every if t.name not in live}
        return cls(live, others)


async def import_prompts_chat(
    service: TemplateService, path: Path, *, origin: str = "import", progress: Progress | None = None
) -> ImportReport:
    """Import every row of the prompts.chat CSV at ``path``; failed rows are reported as ``path:ROW``.

    A name held by a template that did not come from prompts.chat (per its metadata) is left alone and the
    row fails; a deleted prompts.chat template is restored, as a deleted file's template is by a file import.
    """
    rows = read_rows(path)
    names = assign_names(row.act for row in rows)
    existing = await _Existing.load(service)
    report = ImportReport()
    batch: list[tuple[str, BatchItem]] = []

    async def flush() -> None:
        results = await service.save_batch([item for _, item in batch], origin=origin, restore_deleted=True)
        for (where, _), result in zip(batch, results, strict=True):
            record(report, where, result)
        batch.clear()

    for done, (row, name) in enumerate(zip(rows, names, strict=True), start=1):
        where = f"{path}:{row.number}"
        try:
            source = template_source(row, name)
            if existing.live.get(name) == source:
                # Same source, so same content hash: the store would find nothing to write.
                report.unchanged.append(name)
            else:
                batch.append((where, await _prepare(service, existing, source)))
        except PbaError as exc:
            report.failed.append((where, exc.message))
        if len(batch) >= IMPORT_BATCH:
            await flush()
        if progress is not None:
            progress(done, len(rows))
    if batch:
        await flush()
    return report


async def _prepare(service: TemplateService, existing: _Existing, source: str) -> BatchItem:
    parsed = _parse(service, source)
    name = parsed.name
    live = existing.live.get(name)
    if live is not None and not _from_prompts_chat(live):
        raise PbaError(f"the name '{name}' is taken by a template not imported from prompts.chat: rename or delete it")
    if name in existing.others:
        stored = await service.get(name, include_deleted=True)
        if stored.kind != "prompt" or not _from_prompts_chat(stored.source):
            raise PbaError(f"the name '{name}' is taken by a {stored.kind} not imported from prompts.chat")
    # A name that was free at the start must still be free: never overwrite a template created meanwhile.
    known = live is not None or name in existing.others
    return BatchItem(template_write(parsed), MESSAGE, allow_update=known)


def _parse(service: TemplateService, source: str) -> ParsedTemplate:
    try:
        return service.parse(source)
    except InvalidTemplateError as exc:
        # Line numbers of the generated source mean nothing to whoever wrote the CSV.
        raise PbaError(f"{exc.field}: {exc.reason}" if exc.field else exc.reason) from None


def _from_prompts_chat(source: str) -> bool:
    """True when the front matter's metadata says the template came from prompts.chat."""
    try:
        data = load_bounded(split_front_matter(source)[0])
    except (PbaError, yaml.YAMLError, ValueError):  # ValueError: beyond the YAML bounds
        return False
    metadata = data.get("metadata") if isinstance(data, dict) else None
    return isinstance(metadata, dict) and metadata.get("source") == SOURCE
