"""Commands that read: list, show, render, history, diff, validate."""

from __future__ import annotations

import sys
from contextlib import aclosing
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from ..config import env_name
from ..errors import ArgumentTooLargeError, InvalidTemplateError, PbaError
from .app import VERSION, State, cli, echo_json, fail, run, run_plain

if TYPE_CHECKING:
    from ..formats.reading import ForeignFormat
    from ..service import TemplateService
    from ..store import ChangeInfo, TemplateSummary, VersionInfo


@cli.command("list")
@click.option("--category", help="Only this category (and its sub-categories).")
@click.option("--tag", help="Only templates with this tag.")
@click.option("--deleted", "include_deleted", is_flag=True, help="Include deleted templates.")
@click.option(
    "--internal", "include_internal", is_flag=True, help="Include internal templates (such as the enhance-* ones)."
)
@click.option("--limit", type=click.IntRange(1), default=None, help="Show at most this many.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def list_command(
    category: str | None,
    tag: str | None,
    include_deleted: bool,
    include_internal: bool,
    limit: int | None,
    as_json: bool,
) -> None:
    """List templates, ordered by name (internal ones only with --internal)."""

    async def work(service: TemplateService) -> list[TemplateSummary]:
        from ..paging import iter_templates

        items: list[TemplateSummary] = []
        listing = iter_templates(
            service, category=category, tag=tag, include_deleted=include_deleted, include_internal=include_internal
        )
        async with aclosing(listing):
            async for item in listing:
                items.append(item)
                if len(items) == limit:
                    break
        return items

    items = run(work)
    if as_json:
        echo_json(items)
        return
    if not items:
        click.echo("no templates", err=True)
        return
    width = max(len(i.name) for i in items)
    for item in items:
        flag = (" (internal)" if item.internal else "") + (" (deleted)" if item.deleted else "")
        click.echo(
            f"{item.name:<{width}}  v{item.version:<3} {item.category or '-':<14} "
            f"{item.title or item.description}{flag}"
        )


@cli.command()
@click.argument("name")
@click.option("--version", "version", type=VERSION, help="Show this version instead of the current one.")
@click.option("--label", "label", default=None, help="Show the version this label points at.")
@click.option("--source", is_flag=True, help="Print only the template source.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def show(name: str, version: int | None, label: str | None, source: bool, as_json: bool) -> None:
    """Show a template: its description, labels, arguments and source."""
    if version is not None and label is not None:
        fail("give --version or --label, not both")
    stored = run(lambda service: service.get(name, version, label=label))
    if as_json:
        echo_json(stored)
    elif source:
        click.echo(stored.source, nl=False)
    else:
        click.echo(
            f"{stored.name}  version {stored.version} of {stored.current_version}"
            f"  category {stored.category or '-'}  tags {', '.join(stored.tags) or '-'}"
        )
        if stored.labels:
            click.echo("labels: " + ", ".join(f"{label} -> v{version}" for label, version in stored.labels.items()))
        click.echo(stored.title or stored.name)
        click.echo(stored.description)
        if stored.arguments:
            click.echo("arguments:")
            for argument in stored.arguments:
                extra = []
                extra.append("required" if argument.is_required else f"default {argument.default!r}")
                if argument.type != "string":
                    extra.append(argument.type)
                if argument.enum:
                    extra.append("one of " + ", ".join(map(str, argument.enum)))
                click.echo(f"  {argument.name}: {argument.description} ({'; '.join(extra)})")
        click.echo("---")
        click.echo(stored.source, nl=False)


def parse_assignments(pairs: tuple[str, ...], limit: int) -> dict[str, str]:
    """``key=value`` pairs; ``key=@file`` reads the value from a file and ``key=@-`` from stdin.

    A file or stdin is read only up to ``limit`` (the argument limit) + 1 characters: a bigger value is refused.
    """
    arguments: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise PbaError(f"-a expects key=value, got {pair!r}")
        if value.startswith("@") and len(value) > 1:
            value = _read_value(key, value[1:], limit)
        arguments[key] = value
    return arguments


def _read_value(key: str, target: str, limit: int) -> str:
    # limit + 1 characters: more than limit characters are more than limit bytes, so a bigger value is
    # refused after reading at most 4 * (limit + 1) bytes; the renderer checks the exact size of the rest.
    try:
        if target == "-":
            value = sys.stdin.read(limit + 1)
        else:
            with open(target, encoding="utf-8") as handle:
                value = handle.read(limit + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise PbaError(f"cannot read the value of {key} from {target}: {exc}") from None
    if len(value) > limit:
        source = "stdin" if target == "-" else target
        raise ArgumentTooLargeError(
            f"the value of {key} read from {source} is larger than the argument limit of {limit:,} bytes "
            f"({env_name('max_argument_bytes')})"
        )
    return value


@cli.command()
@click.argument("name")
@click.option(
    "-a",
    "--arg",
    "pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="An argument; repeat for more. KEY=@file reads the value from a file, KEY=@- from stdin.",
)
@click.option("--version", "version", type=VERSION, help="Render this version instead of the current one.")
@click.option("--label", "label", default=None, help="Render the version this label points at.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (messages with roles, text, version).")
def render(name: str, pairs: tuple[str, ...], version: int | None, label: str | None, as_json: bool) -> None:
    """Render a template with arguments and print its messages."""
    from ..labels import LabelView

    state: State = click.get_current_context().find_object(State)  # type: ignore[assignment]
    limit = state.settings().max_argument_bytes
    arguments = run_plain(lambda: parse_assignments(pairs, limit))
    view = run_plain(lambda: LabelView.of(label))
    result = run(lambda service: service.render(name, arguments, version=version, client="cli", view=view))
    if as_json:
        echo_json(result)
        return
    for index, message in enumerate(result.messages):
        if index:
            click.echo()
        click.echo(f"{message.role}:")
        click.echo(message.content)


@cli.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def history(name: str, as_json: bool) -> None:
    """List every version of a template, oldest first."""

    async def work(service: TemplateService) -> tuple[list[VersionInfo], list[ChangeInfo]]:
        return await service.history(name), await service.changes(name)

    versions, changes = run(work)
    if as_json:
        echo_json(versions)  # each with its author and labels; the label moves are in the text and the MCP tool
        return
    for entry in versions:
        mark = "*" if entry.current else " "
        when = entry.created_at.strftime("%Y-%m-%d %H:%M:%S")
        marks = f"  [{', '.join(entry.labels)}]" if entry.labels else ""
        click.echo(
            f"{mark} v{entry.version:<4} {when}  {entry.origin:<8} {entry.author or '-':<12} "
            f"{entry.content_hash[:10]}  {entry.message or ''}{marks}"
        )
    for change in changes:
        when = change.created_at.strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"  {describe_change(change)}  {when}  by {change.author}")


def describe_change(change: ChangeInfo) -> str:
    """One line for a change that made no version."""
    if change.action == "label":
        where = (
            f"version {change.from_version} -> {change.to_version}"
            if change.from_version
            else f"-> {change.to_version}"
        )
        return f"label {change.label}: {where}"
    if change.action == "unlabel":
        return f"label {change.label} removed (was version {change.from_version})"
    return "deleted" if change.action == "delete" else "restored"


@cli.command()
@click.argument("name")
@click.argument("from_version", type=VERSION)
@click.argument("to_version", type=VERSION)
def diff(name: str, from_version: int, to_version: int) -> None:
    """Show a unified diff between two versions of a template."""
    text = run(lambda service: service.diff(name, from_version, to_version))
    click.echo(text or f"versions {from_version} and {to_version} of {name} are identical", nl=not text)


def _partials_near(path: Path) -> dict[str, str]:
    """Partials a validated path can include: the ``_partials/`` folder at or above it."""
    from ..sync import find_template_files, read_template_file

    for folder in [path if path.is_dir() else path.parent, *path.resolve().parents]:
        candidate = folder / "_partials"
        if candidate.is_dir():
            found = {}
            for file in find_template_files(candidate):
                try:
                    found[f"_partials/{file.relative}"] = read_template_file(file)
                except PbaError:
                    continue  # unreadable or leading outside: an include of it says it is missing
            return found
    return {}


@cli.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["auto", "templates", "prompty", "dotprompt", "langfuse"]),
    default="auto",
    show_default=True,
    help="What PATH holds: template files, or Prompty, Dotprompt or Langfuse files (auto: as import decides).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def validate(path: Path, file_format: str, as_json: bool) -> None:
    """Check template files (or another tool's) without touching the store; exit 1 if any is invalid."""
    from ..formats.checking import check_foreign
    from ..formats.detect import detect_foreign
    from ..formats.reading import SUFFIXES

    state: State = click.get_current_context().find_object(State)  # type: ignore[assignment]
    max_bytes = state.settings().max_source_bytes
    chosen = run_plain(lambda: detect_foreign(path, max_bytes)) if file_format == "auto" else file_format
    if chosen in ("prompty", "dotprompt", "langfuse"):
        foreign = cast("ForeignFormat", chosen)
        found = run_plain(lambda: check_foreign(path, foreign, max_bytes))
        _report_validation(found, as_json, f"no {chosen} files (*{SUFFIXES[foreign]}) found under {path}")
    else:
        _report_validation(_validate_templates(path), as_json, f"no template files (*.md) found under {path}")


def _validate_templates(path: Path) -> list[dict[str, Any]]:
    """Each native template file under ``path``, parsed against the partials near it."""
    from ..sync import find_template_files, read_template_file
    from ..templates.parsing import parse_template

    partials = run_plain(lambda: _partials_near(path))
    results: list[dict[str, Any]] = []
    for file in run_plain(lambda: find_template_files(path)):
        entry: dict[str, Any] = {"path": str(file.path), "ok": True, "warnings": []}
        try:
            source = read_template_file(file)
        except PbaError as exc:
            entry.update(ok=False, error=f"{file.path}: {exc.message}")
        else:
            if not file.is_partial:
                try:
                    parsed = parse_template(
                        source,
                        path=str(file.path),
                        default_name=file.path.stem,
                        default_category=file.category,
                        partials=partials.get,
                    )
                    entry["name"] = parsed.name
                    entry["warnings"] = list(parsed.warnings)
                except (InvalidTemplateError, PbaError) as exc:
                    entry.update(ok=False, error=exc.message)
        results.append(entry)
    return results


def _report_validation(results: list[dict[str, Any]], as_json: bool, nothing: str) -> None:
    """Print each invalid file and warning (or JSON) and the count; exit 1 if any is invalid or none was found."""
    failed = [r for r in results if not r["ok"]]
    if as_json:
        echo_json(results)
    else:
        for result in results:
            if not result["ok"]:
                click.echo(f"invalid: {result['error']}", err=True)
            for warning in result["warnings"]:
                click.echo(f"warning: {result['path']}: {warning}", err=True)
        click.echo(f"{len(results) - len(failed)} valid, {len(failed)} invalid")
    if failed:
        sys.exit(1)
    if not results:
        fail(nothing)


# A word with a leading '-' excludes it (`search review -security`): unknown options are query words. Only --help
# asks for help here, since click would read every letter of '-hardcoded' as a short option and find -h.
@cli.command(context_settings={"ignore_unknown_options": True, "help_option_names": ["--help"]})
@click.argument("query", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--category", help="Only this category (and its sub-categories).")
@click.option("--tag", "tags", multiple=True, help="Only templates with this tag (repeatable: all must match).")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True, help="Most results.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def search(query: tuple[str, ...], category: str | None, tags: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Find templates: words (all must match), "phrases", prefix*, -excluded, category:X, tag:Y."""
    text = " ".join(query)
    found = run(lambda service: service.search(text, category=category, tags=list(tags), limit=limit))
    if as_json:
        echo_json(found)
        return
    if found.notice:
        click.echo(f"note: {found.notice}", err=True)
    if not found.results:
        click.echo("no templates found", err=True)
        return
    width = max(len(hit.name) for hit in found.results)
    for hit in found.results:
        flag = "  (similar name)" if hit.fuzzy else ""
        click.echo(f"{hit.name:<{width}}  {hit.score:6.2f}  {hit.title or hit.description}{flag}")
        click.echo(f"{'':<{width}}  {'':6}  {hit.snippet}")
