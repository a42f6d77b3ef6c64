"""Shared steps of the format tests: import into a real store, render, export and import again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pba_tunnel.formats.transfer import ExportFormat, export_foreign
from pba_tunnel.importers.report import ImportReport
from pba_tunnel.service import TemplateService
from pba_tunnel.sync import import_path

DATA = Path(__file__).resolve().parents[1] / "data" / "formats"


async def messages(service: TemplateService, name: str, arguments: dict[str, Any]) -> list[tuple[str, str]]:
    """The rendered messages of ``name`` as (role, text) pairs."""
    result = await service.render(name, arguments)
    return [(m.role, m.content) for m in result.messages]


async def sources(service: TemplateService) -> dict[str, str]:
    """Every live template and partial source by name."""
    return {**await service.sources("prompt"), **await service.sources("partial")}


async def export_and_reimport(
    service: TemplateService, file_format: ExportFormat, folder: Path
) -> tuple[ImportReport, dict[str, str]]:
    """Export the store to ``folder`` in ``file_format``, import it back; the report and the sources after."""
    exported = await export_foreign(service, folder, file_format)
    assert exported.failed == []
    report = await import_path(service, folder, file_format=file_format)
    return report, await sources(service)
