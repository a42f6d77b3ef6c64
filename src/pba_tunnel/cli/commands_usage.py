"""Labels and usage statistics: ``label`` and ``stats``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import click

from ..errors import PbaError
from ..periods import LONGEST_DAYS, parse_period, whole_days
from .app import VERSION, cli, echo_json, fail, run

if TYPE_CHECKING:
    from ..service import TemplateService
    from ..store import LabelMove, UsageStat

AUTHOR = "cli"


@cli.command()
@click.argument("name")
@click.argument("label")
@click.option("--version", "version", type=VERSION, help="Point the label at this version (default: the newest).")
@click.option(
    "--expected-version", type=VERSION, help="Refuse unless the label points at this version now (someone moved it)."
)
@click.option("--delete", "remove", is_flag=True, help="Remove the label instead.")
def label(name: str, label: str, version: int | None, expected_version: int | None, remove: bool) -> None:
    """Point LABEL (production, staging, any slug) of a template at a version; no version is made."""
    if remove and version is not None:
        fail("--delete removes the label: it takes no --version")

    async def work(service: TemplateService) -> LabelMove:
        if remove:
            return await service.remove_label(
                name, label, expected_version=expected_version, author=AUTHOR, can_admin=True
            )
        return await service.set_label(
            name, label, version=version, expected_version=expected_version, author=AUTHOR, can_admin=True
        )

    move = run(work)
    if remove:
        click.echo(f"removed {label} from {name} (it pointed at version {move.from_version})" if move.changed
                   else f"{name} has no label {label}")  # fmt: skip
    elif not move.changed:
        click.echo(f"{label} of {name} already points at version {move.to_version}")
    elif move.from_version is None:
        click.echo(f"{label} of {name} now points at version {move.to_version}")
    else:
        click.echo(f"{label} of {name} moved from version {move.from_version} to {move.to_version}")


def parse_days(text: str) -> int:
    """``7d``, ``2w``, ``12h`` as the number of calendar days (UTC) it reaches back, today included."""
    try:
        return whole_days(parse_period(text))
    except PbaError as exc:
        raise click.BadParameter(exc.message) from None


def _days_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | None:
    return None if value is None else parse_days(value)


def since_days(days: int) -> date:
    """The first day (UTC) of a period of ``days`` days ending today."""
    return (datetime.now(UTC) - timedelta(days=days - 1)).date()


@cli.command()
@click.argument("name", required=False)
@click.option(
    "--since",
    "period",
    default="7d",
    show_default=True,
    callback=_days_option,
    help=f"The last PERIOD: 7d, 2w, 12h… in whole days (UTC, today included), at most {LONGEST_DAYS}d.",
)
@click.option("--by", type=click.Choice(["client", "label", "version"]), default=None, help="One row per this too.")
@click.option(
    "--unused",
    "unused_period",
    default=None,
    metavar="PERIOD",
    callback=_days_option,
    help="List templates not rendered in this period (written as for --since).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def stats(name: str | None, period: int, by: str | None, unused_period: int | None, as_json: bool) -> None:
    """Renders per template: count, errors, last use, p50/p95 render time (from daily rows)."""
    if unused_period is not None:
        first = since_days(unused_period)
        unused = run(lambda service: service.unused(since=first))
        if as_json:
            echo_json([{"name": n, "last_used": t.isoformat() if t else None} for n, t in unused])
            return
        for unused_name, last in unused:
            click.echo(f"{unused_name}  last used {last:%Y-%m-%d}" if last else unused_name)
        if not unused:
            click.echo(f"every template was rendered since {first}", err=True)
        return
    first = since_days(period)
    group = by or "template"
    rows: list[UsageStat] = run(lambda service: service.usage(since=first, name=name, by=group))  # type: ignore[arg-type]
    if as_json:
        echo_json({"since": first.isoformat(), "by": group, "stats": [r.model_dump(mode="json") for r in rows]})
        return
    if not rows:
        click.echo(f"no renders since {first}", err=True)
        return
    width = max(len(r.name) for r in rows)
    group_width = max([len(r.group or "") for r in rows] + [len(by or "")])
    header = f"{'template':<{width}}  " + (f"{by:<{group_width}}  " if by else "")
    click.echo(f"{header}{'renders':>8} {'errors':>6}  {'p50 ms':>8} {'p95 ms':>8}  last used")
    for row in rows:
        key = f"{row.name:<{width}}  " + (f"{row.group or '-':<{group_width}}  " if by else "")
        click.echo(
            f"{key}{row.renders:>8} {row.errors:>6}  {row.p50_ms:>8.2f} {row.p95_ms:>8.2f}  "
            f"{row.last_used:%Y-%m-%d %H:%M}"
        )
