"""``pba-tunnel bench``."""

from __future__ import annotations

import click

from .app import cli


@cli.command()
@click.option(
    "--calls", type=click.IntRange(100), default=5000, show_default=True, help="Sequential calls per latency figure."
)
@click.option(
    "--templates",
    type=click.IntRange(1),
    default=10_000,
    show_default=True,
    help="Templates in the store for prompts/get and cold start.",
)
@click.option(
    "--list-templates",
    type=click.IntRange(1),
    default=100_000,
    show_default=True,
    help="Templates in the store for the prompts/list figure.",
)
@click.option("--cold-starts", type=click.IntRange(1), default=7, show_default=True, help="Cold starts of each server.")
@click.option("--quick", is_flag=True, help="A fast smoke run (few calls, small stores); its figures mean little.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def bench(calls: int, templates: int, list_templates: int, cold_starts: int, quick: bool, as_json: bool) -> None:
    """Measure speed against baselines run on this machine in the same run (reported as ratios)."""
    from ..bench import figures_json, format_report, run_bench

    if quick:
        calls, templates, list_templates, cold_starts = 200, 300, 1000, 1
    figures = run_bench(
        calls=calls,
        templates=templates,
        list_templates=list_templates,
        cold_starts=cold_starts,
        log=lambda line: click.echo(line, err=True),
    )
    click.echo(figures_json(figures) if as_json else format_report(figures))
