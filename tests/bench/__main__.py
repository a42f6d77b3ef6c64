"""``python -m tests.bench``: run the bench suites and print every figure with its baseline and ratio."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cli_suite import run_cli
from .http_memory import run_http_memory
from .http_suite import run_http
from .pg_http_suite import run_pg_http
from .pg_search_suite import run_pg_search
from .report import Figure, figures_json, format_report
from .search_suite import run_search
from .stats_suite import run_stats
from .stdio_suite import run_stdio
from .store_suite import run_store
from .web_suite import run_web


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench",
        description="Measure pba-tunnel against baselines run on this machine in the same run (reported as ratios).",
    )
    parser.add_argument(
        "--suite",
        choices=[
            "all",
            "cli",
            "stdio",
            "search",
            "store",
            "stats",
            "http",
            "http-memory",
            "web",
            "pg-search",
            "pg-http",
        ],
        default="all",
        help="default: all (cli, stdio, search, store, stats, http and web); pg-search and pg-http start a throwaway "
        "PostgreSQL server; http-memory measures our HTTP server's RSS at --list-templates",
    )
    parser.add_argument("--pg-url", default=None, help="pg-search, pg-http: a PostgreSQL database to fill instead")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (few calls, small stores)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--calls", type=int, default=5000, help="sequential calls per latency figure (5000)")
    parser.add_argument("--templates", type=int, default=10_000, help="store for prompts/get, cold start (10000)")
    parser.add_argument("--list-templates", type=int, default=100_000, help="store for prompts/list (100000)")
    parser.add_argument("--cold-starts", type=int, default=7, help="cold starts of each server (7)")
    parser.add_argument("--cli-runs", type=int, default=15, help="cli: measured runs of each command (15)")
    parser.add_argument("--http-seconds", type=float, default=8.0, help="load time per server and client count (8)")
    parser.add_argument("--http-clients", default="1,10,50", help="concurrent HTTP clients, comma-separated (1,10,50)")
    parser.add_argument("--http-only", default=None, help="load only the HTTP servers whose name contains this")
    parser.add_argument(
        "--http-profile",
        type=Path,
        default=None,
        help="http: run our servers under cProfile and write NAME.pstats of the last load into this folder",
    )
    parser.add_argument("--search-templates", type=int, default=100_000, help="search corpus (100000)")
    parser.add_argument("--import-templates", type=int, default=10_000, help="files per import, first gets (10000)")
    parser.add_argument("--import-large", type=int, default=100_000, help="files of the large import (100000; 0: none)")
    parser.add_argument(
        "--web-templates", default="10000,100000", help="store sizes for the library page (10000,100000)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the chosen suites; the report goes to stdout, progress to stderr."""
    args = _parser().parse_args(argv)
    if args.quick:
        args.calls, args.templates, args.list_templates, args.cold_starts, args.search_templates = (
            200,
            300,
            1000,
            1,
            2000,
        )
        args.import_templates, args.import_large = 300, 0
        args.http_seconds, args.http_clients = 1.0, "1,4"
        args.cli_runs = 1

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    figures: list[Figure] = []
    if args.suite in ("all", "cli"):  # first: the stdio suite pins this process, and what it spawns, to one CPU
        figures += run_cli(runs=args.cli_runs, warmups=0 if args.quick else 3, log=log)
    if args.suite in ("all", "stdio"):
        figures += run_stdio(
            calls=args.calls,
            templates=args.templates,
            list_templates=args.list_templates,
            cold_starts=args.cold_starts,
            log=log,
        )
    if args.suite in ("all", "search"):
        figures += run_search(
            templates=args.search_templates,
            repeats=20 if args.quick else 100,
            writes=50 if args.quick else 500,
            log=log,
        )
    if args.suite == "pg-search":
        figures += run_pg_search(
            templates=args.search_templates, repeats=20 if args.quick else 100, log=log, url=args.pg_url
        )
    if args.suite == "pg-http":
        figures += run_pg_http(
            templates=args.templates,
            clients=[int(n) for n in args.http_clients.split(",")],
            seconds=args.http_seconds,
            log=log,
            url=args.pg_url,
        )
    if args.suite in ("all", "store"):
        calls = min(args.calls, 1000)
        figures += run_store(templates=args.import_templates, large=args.import_large, calls=calls, log=log)
    if args.suite in ("all", "stats"):
        figures += run_stats(calls=args.calls, templates=args.templates, log=log)
    if args.suite in ("all", "http"):
        figures += run_http(
            clients=[int(n) for n in args.http_clients.split(",")],
            seconds=args.http_seconds,
            templates=args.templates,
            log=log,
            only=args.http_only,
            profile=args.http_profile,
        )
    if args.suite == "http-memory":
        figures += run_http_memory(templates=args.list_templates, log=log)
    if args.suite in ("all", "web"):
        sizes = [300, 1000] if args.quick else [int(n) for n in args.web_templates.split(",")]
        figures += run_web(sizes=sizes, repeats=20 if args.quick else 200, log=log)
    print(figures_json(figures) if args.json else format_report(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
