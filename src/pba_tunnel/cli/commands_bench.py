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
@click.option(
    "--suite",
    type=click.Choice(["all", "server", "search"]),
    default="all",
    show_default=True,
    help="server: stdio latency, listing, cold start; search: full-text search at scale.",
)
@click.option(
    "--search-templates",
    type=click.IntRange(1),
    default=100_000,
    show_default=True,
    help="Templates in the search corpus.",
)
@click.option("--quick", is_flag=True, help="A fast smoke run (few calls, small stores); its figures mean little.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def bench(
    calls: int,
    templates: int,
    list_templates: int,
    cold_starts: int,
    suite: str,
    search_templates: int,
    quick: bool,
    as_json: bool,
) -> None:
    """Measure speed against baselines run on this machine in the same run (reported as ratios)."""
    from ..bench import Figure, figures_json, format_report, run_bench
    from ..bench_search import run_search_bench

    if quick:
        calls, templates, list_templates, cold_starts, search_templates = 200, 300, 1000, 1, 2000

    def log(line: str) -> None:
        click.echo(line, err=True)

    figures: list[Figure] = []
    if suite in ("all", "server"):
        figures += run_bench(
            calls=calls, templates=templates, list_templates=list_templates, cold_starts=cold_starts, log=log
        )
    if suite in ("all", "search"):
        figures += run_search_bench(templates=search_templates, repeats=20 if quick else 100, log=log)
    click.echo(figures_json(figures) if as_json else format_report(figures))
