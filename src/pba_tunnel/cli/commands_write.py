"""Commands that change the store: import, export, rollback, delete, restore."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from ..errors import LossyConversionError
from .app import VERSION, ProgressBar, cli, echo_json, run, run_plain

if TYPE_CHECKING:
    from ..formats.losses import Loss
    from ..formats.transfer import ExportFormat, ForeignExportReport
    from ..importers import ImportFormat
    from ..importers.report import ImportReport
    from ..service import TemplateService
    from ..store import LabelMove
    from ..sync import ExportReport


LOSSY_EXIT = 3  # --strict refused a lossy conversion: distinct from 1 (failed files) and 2 (usage)


def _print_losses(losses: list[Loss]) -> None:
    """The lossiness report: per template, each field with no exact equivalent and what was done with it."""
    for loss in losses:
        click.echo(f"{'lossy' if loss.lossy else 'note'}: {loss.line()}")


def _losses_json(losses: list[Loss]) -> list[dict[str, object]]:
    return [
        {"template": x.template, "field": x.field, "action": x.action, "detail": x.detail, "lossy": x.lossy}
        for x in losses
    ]


def _print_label_moves(moves: list[LabelMove]) -> None:
    """The labels an import pointed at a version (a label already there is not listed)."""
    for move in moves:
        was = f" (was v{move.from_version})" if move.from_version is not None else ""
        click.echo(f"label: {move.name}: {move.label} -> v{move.to_version}{was}")


def _refused(exc: LossyConversionError, as_json: bool) -> None:
    if as_json:
        echo_json({"error": {"code": exc.code, "message": exc.message, "lossy": exc.count}})
    click.echo(f"error: {exc.code}: {exc.message} (drop --strict to convert anyway)", err=True)
    sys.exit(LOSSY_EXIT)


@cli.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["auto", "templates", "prompts-chat", "prompty", "dotprompt", "langfuse"]),
    default="auto",
    show_default=True,
    help="What PATH holds: template files, a prompts.chat CSV, Prompty, Dotprompt or Langfuse JSON files "
    "(auto: by extension and content).",
)
@click.option("--strict", is_flag=True, help="Refuse (exit 3, nothing written) if any conversion would lose something.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_command(path: Path, file_format: str, strict: bool, as_json: bool) -> None:
    """Import template files (one, or a folder recursively), a prompts.chat CSV, or another tool's prompts."""
    from ..sync import import_path

    bar = ProgressBar("importing")

    async def work(service: TemplateService) -> ImportReport | LossyConversionError:
        try:
            forced = None if file_format == "auto" else cast("ImportFormat", file_format)
            return await import_path(service, path, progress=bar.callback, file_format=forced, strict=strict)
        except LossyConversionError as exc:
            return exc
        finally:
            bar.close()

    report = run(work)
    if isinstance(report, LossyConversionError):
        _refused(report, as_json)
        return
    losses: list[Loss] = getattr(report, "losses", [])
    moves: list[LabelMove] = getattr(report, "labels", [])
    if as_json:
        document: dict[str, object] = {
            "added": report.added,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "failed": [{"path": p, "reason": r} for p, r in report.failed],
        }
        if hasattr(report, "losses"):  # a conversion from another format: its lossiness report
            document["losses"] = _losses_json(losses)
            document["labels"] = [
                {"template": m.name, "label": m.label, "from_version": m.from_version, "to_version": m.to_version}
                for m in moves
            ]
        echo_json(document)
    else:
        _print_losses(losses)
        _print_label_moves(moves)
        for failed_path, reason in report.failed:
            click.echo(f"skipped {failed_path}: {reason}", err=True)
        click.echo(report.summary())
    if report.failed:
        sys.exit(1)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["native", "prompty", "dotprompt", "langfuse"]),
    default="native",
    show_default=True,
    help="native: template files that re-import unchanged; or Prompty, Dotprompt, Langfuse JSON (every version).",
)
@click.option("--strict", is_flag=True, help="Refuse (exit 3, nothing written) if any conversion would lose something.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def export(directory: Path, file_format: str, strict: bool, as_json: bool) -> None:
    """Write the current version of every template as files (in another tool's format with --format)."""
    from ..files import check_folder

    run_plain(lambda: check_folder(directory))  # a file in the way is refused before the store is opened
    from ..formats.transfer import export_foreign
    from ..sync import export_to

    bar = ProgressBar("exporting")

    async def work(service: TemplateService) -> ExportReport | ForeignExportReport | LossyConversionError:
        try:
            if file_format == "native":
                return await export_to(service, directory, progress=bar.callback)
            chosen = cast("ExportFormat", file_format)
            return await export_foreign(service, directory, chosen, strict=strict, progress=bar.callback)
        except LossyConversionError as exc:
            return exc
        finally:
            bar.close()

    report = run(work)
    if isinstance(report, LossyConversionError):
        _refused(report, as_json)
        return
    losses: list[Loss] = getattr(report, "losses", [])
    if as_json:
        echo_json(
            {
                "written": [str(p) for p in report.written],
                "failed": [{"path": p, "reason": r} for p, r in report.failed],
                "losses": _losses_json(losses),
            }
        )
    else:
        _print_losses(losses)
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
