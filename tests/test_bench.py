"""``pba-tunnel bench`` runs end to end and reports every figure with its baseline (no timing asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli

EXPECTED = {
    "get_vs_node": "Node reference server prompts/get",
    "get_vs_stock": "stock MCPServer hello-world prompts/get",
    "render_tool_vs_get": "our prompts/get",
    "list_page": None,
    "cold_start": "stock MCPServer hello-world cold start",
    "render_vs_jinja": "bare Jinja2 render",
    "index_insert": None,
    "index_rebuild": None,
    "search_rare": "LIKE '%term%' scan",
    "search_mid": "LIKE '%term%' scan",
    "search_common": "LIKE '%term%' scan",
}


@pytest.mark.slow
def test_quick_bench_reports_each_figure_against_its_baseline(home: Path) -> None:
    result = run_cli("bench", "--quick", "--json", home=home, timeout=300)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert {f["key"]: f["baseline"] for f in figures} == EXPECTED
    for figure in figures:
        assert figure["value"] > 0
        if figure["baseline"] is not None and figure["baseline_value"] is not None:
            assert figure["ratio"] == pytest.approx(figure["value"] / figure["baseline_value"])
    assert "Node reference server unavailable" not in result.stderr, result.stderr
