"""openai-agents (0.24.0) with ``convert_schemas_to_strict=True`` over ``pba-tunnel serve`` (stdio).

OpenAI strict mode wants closed objects: every property required, ``additionalProperties: false``. openai-agents
converts each MCP tool's input schema when asked and, when it cannot, logs the reason and silently sends the
tool non-strict (issue 10, defect 4: ``render_template``'s open ``arguments`` object). Every tool of ours must
convert without that fallback. agents_strict.py builds the tools exactly as an agent run does
(``Agent(mcp_servers=..., mcp_config={"convert_schemas_to_strict": True}).get_mcp_tools()``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from node_clients import make_store
from python_clients import (
    AGENTS_STRICT_SCRIPT,
    AGENTS_VENV,
    PythonClients,
    python_clients_fixture,  # noqa: F401  (the python_clients fixture)
    serve_command,
)

# The tools a client sees today; a tool added later is covered by test_every_tool_converts_strictly.
TOOLS = [
    "render_template",
    "search_templates",
    "list_templates",
    "get_template",
    "create_template",
    "update_template",
    "delete_template",
    "restore_template",
    "template_history",
    "rollback_template",
    "diff_template",
    "enhance_template",
]


@pytest.fixture(scope="module")
def converted(python_clients: PythonClients, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """openai-agents' summary: each tool with its converted schema and whether it stayed strict."""
    home = make_store(tmp_path_factory.mktemp("agents-store"), 0)
    done, summary = python_clients.script(
        AGENTS_VENV,
        AGENTS_STRICT_SCRIPT,
        serve_command(),
        home,
        OPENAI_AGENTS_DONT_LOG_TOOL_DATA="0",  # log why a schema could not be made strict
        OPENAI_AGENTS_DISABLE_TRACING="1",  # no trace export (there is no API key, and no model is called)
    )
    assert summary["ok"], f"{summary.get('error')}\n{summary.get('traceback')}\n--- stderr\n{done.stderr[-3000:]}"
    assert summary["versions"] == {"openai-agents": "0.24.0", "mcp": "1.30.0"}
    assert summary["others"] == []
    return summary


def tool(converted: dict[str, Any], name: str) -> dict[str, Any]:
    found = [t for t in converted["tools"] if t["name"] == name]
    assert len(found) == 1, [t["name"] for t in converted["tools"]]
    return found[0]


@pytest.mark.parametrize("name", TOOLS)
def test_tool_converts_to_strict_without_falling_back(converted: dict[str, Any], name: str) -> None:
    converted_tool = tool(converted, name)
    assert converted_tool["strict"] is True, (
        f"{name} fell back to non-strict: {converted['strictErrors']}\n{json.dumps(converted_tool['schema'])[:3000]}"
    )


def test_every_tool_converts_strictly(converted: dict[str, Any]) -> None:
    assert {t["name"] for t in converted["tools"]} >= set(TOOLS)
    assert [t["name"] for t in converted["tools"] if not t["strict"]] == [], converted["strictErrors"]
    assert converted["strictErrors"] == []


def test_render_template_strict_schema_is_closed_and_keeps_its_parameters(converted: dict[str, Any]) -> None:
    schema = tool(converted, "render_template")["schema"]
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert "name" in schema["properties"]
    assert set(schema["required"]) == set(schema["properties"])  # strict mode: every property required
