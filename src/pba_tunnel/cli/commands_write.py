"""Commands that change the store: import, export, rollback, delete, restore."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from .app import VERSION, ProgressBar, cli, echo_json, run

if TYPE_CHECKING:
    from ..importers import ImportFormat
    from ..importers.report import ImportReport
    from ..service import TemplateService
    from ..sync import ExportReport


@cli.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["auto", "templates", "prompts-chat"]),
    default="auto",
    show_default=True,
    help="What PATH holds: template files, or a prompts.chat CSV (auto: by extension and CSV header).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_command(path: Path, file_format: str, as_json: bool) -> None:
    """Import template files (one, or a folder recursively) or a prompts.chat CSV; unchanged ones add no version."""
    from ..sync import import_path

    bar = ProgressBar("importing")

    async def work(service: TemplateService) -> ImportReport:
        try:
            forced = None if file_format == "auto" else cast("ImportFormat", file_format)
            return await import_path(service, path, progress=bar.callback, file_format=forced)
        finally:
            bar.close()

    report = run(work)
    if as_json:
        echo_json(
            {
                "added": report.added,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "failed": [{"path": p, "reason": r} for p, r in report.failed],
            }
        )
    else:
        for failed_path, reason in report.failed:
            click.echo(f"skipped {failed_path}: {reason}", err=True)
        click.echo(report.summary())
    if report.failed:
        sys.exit(1)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export(directory: Path) -> None:
    """Write the current version of every template as files that re-import unchanged."""
    from ..sync import export_to

    bar = ProgressBar("exporting")

    async def work(service: TemplateService) -> ExportReport:
        try:
            return await export_to(service, directory, progress=bar.callback)
        finally:
            bar.close()

    report = run(work)
    for failed_path, reason in report.failed:
        click.echo(f"refused {failed_path}: {reason}", err=True)
    refused = f", refused {len(report.failed)}" if report.failed else ""
    click.echo(f"exported {len(report.written)} files to {directory}{refused}")
    if report.failed:
        sys.exit(1)


@cli.command()
@click.argument("name")
@click.argument("version", type=VERSION)
def rollback(name: str, version: int) -> None:
    """Make an earlier version current again (as a new version; nothing is lost)."""
    result = run(lambda service: service.rollback(name, version, author="cli"))
    if result.changed:
        click.echo(f"{name} is now at version {result.version} (same content as version {version})")
    else:
        click.echo(f"{name} already has the content of version {version} (version {result.version})")


@cli.command()
@click.argument("name")
def delete(name: str) -> None:
    """Delete a template (soft: `restore` brings it back with all its versions)."""
    changed = run(lambda service: service.delete(name, author="cli"))
    click.echo(f"deleted {name}" if changed else f"{name} was already deleted")


@cli.command()
@click.argument("name")
def restore(name: str) -> None:
    """Bring back a deleted template."""
    changed = run(lambda service: service.restore(name, author="cli"))
    click.echo(f"restored {name}" if changed else f"{name} was not deleted")
