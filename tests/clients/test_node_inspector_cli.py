"""The MCP Inspector CLI (2.12.0, Node 22) against ``python -m pba_tunnel serve`` over stdio.

Each test is one ``inspector --cli --format json`` run: it starts the server, does the handshake, sends one
request (following nextCursor for lists) and prints the result as one JSON object.
"""

from __future__ import annotations

import json
from pathlib import Path

from node_clients import (
    NodeClients,
    big_home_fixture,  # noqa: F401  (fixture)
    big_home_names_fixture,  # noqa: F401  (fixture)
    node_clients_fixture,  # noqa: F401  (fixture)
)

TOOL_NAMES = {
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
    "set_label",
    "remove_label",
    "template_stats",
}
STARTERS = {"code-review", "commit-message", "debug-error", "sql-query", "summarize", "write-tests"}
CODE = "def add(a, b):\n    return a - b  # marker-7f3a"


def test_initialize_reports_the_server_and_honest_capabilities(node_clients: NodeClients, big_home: Path) -> None:
    done = node_clients.inspector(big_home, "--method", "initialize")
    assert done.returncode == 0, done.describe()
    result = done.json()["result"]
    assert result["serverInfo"]["name"] == "pba-tunnel"
    assert result["serverInfo"]["version"]
    assert result["protocolVersion"] == "2025-11-25"
    capabilities = result["capabilities"]
    assert capabilities["prompts"]["listChanged"] is True
    assert {"tools", "resources", "completions"} <= capabilities.keys()
    assert "render_template" in result["instructions"]


def test_prompts_list_merges_every_page(node_clients: NodeClients, big_home: Path, big_home_names: set[str]) -> None:
    done = node_clients.inspector(big_home, "--method", "prompts/list")
    assert done.returncode == 0, done.describe()
    result = done.json()["result"]
    prompts = result["prompts"]
    names = [p["name"] for p in prompts]
    assert len(names) == len(set(names)), "a prompt was listed twice"
    assert set(names) == big_home_names  # more than one page (100 a page): the inspector followed nextCursor
    assert set(names) >= STARTERS
    assert "generated-129" in names
    assert all(p.get("description") for p in prompts), [p["name"] for p in prompts if not p.get("description")]
    review = next(p for p in prompts if p["name"] == "code-review")
    arguments = {a["name"]: a for a in review["arguments"]}
    assert {"language", "code", "focus"} <= arguments.keys()
    assert arguments["language"]["required"] is True
    assert arguments["code"]["required"] is True
    assert arguments["focus"]["required"] is False
    assert all(a["description"] for a in review["arguments"])


def test_prompts_get_renders_the_arguments(node_clients: NodeClients, big_home: Path) -> None:
    done = node_clients.inspector(
        big_home,
        "--method",
        "prompts/get",
        "--prompt-name",
        "code-review",
        "--prompt-args",
        "language=Python",
        f"code={CODE}",
        "focus=security",
    )
    assert done.returncode == 0, done.describe()
    result = done.json()["result"]
    messages = result["messages"]
    assert messages, result
    assert {m["role"] for m in messages} <= {"user", "assistant"}
    assert messages[0]["role"] == "user"
    text = "\n".join(m["content"]["text"] for m in messages)
    assert "Python" in text
    assert "marker-7f3a" in text
    assert "return a - b" in text
    assert "**security**" in text
    assert "{{" not in text
    assert result["description"]


def test_prompts_get_of_an_unknown_prompt_is_a_json_rpc_error(node_clients: NodeClients, big_home: Path) -> None:
    done = node_clients.inspector(big_home, "--method", "prompts/get", "--prompt-name", "no-such-template")
    assert done.returncode == 1, done.describe()
    error = done.error_envelope()
    assert error is not None, done.describe()
    assert "no-such-template" in error["message"]


def test_tools_list_has_every_described_tool(node_clients: NodeClients, big_home: Path) -> None:
    done = node_clients.inspector(big_home, "--method", "tools/list")
    assert done.returncode == 0, done.describe()
    tools = done.json()["result"]["tools"]
    assert len(tools) == len(TOOL_NAMES)
    assert {t["name"] for t in tools} == TOOL_NAMES
    for tool in tools:
        assert tool["description"].strip(), tool["name"]
        assert tool["inputSchema"]["type"] == "object", tool["name"]
        assert isinstance(tool["annotations"]["readOnlyHint"], bool), tool["name"]
    render = next(t for t in tools if t["name"] == "render_template")
    assert "name" in render["inputSchema"]["properties"]
    assert render["annotations"]["readOnlyHint"] is True
    assert next(t for t in tools if t["name"] == "delete_template")["annotations"]["destructiveHint"] is True
    enhance = next(t for t in tools if t["name"] == "enhance_template")["annotations"]
    assert (enhance["readOnlyHint"], enhance["destructiveHint"]) == (False, False)


def test_tools_call_render_template_returns_messages_with_roles(node_clients: NodeClients, big_home: Path) -> None:
    done = node_clients.inspector(
        big_home,
        "--method",
        "tools/call",
        "--tool-name",
        "render_template",
        "--tool-args-json",
        json.dumps(
            {
                "name": "code-review",
                "arguments": {"language": "Go", "code": "x := 1 // marker-91c2", "focus": "performance"},
            }
        ),
    )
    assert done.returncode == 0, done.describe()
    result = done.json()["result"]
    assert result.get("isError") is False
    structured = result["structuredContent"]
    assert structured["name"] == "code-review"
    assert structured["version"] >= 1
    roles = [m["role"] for m in structured["messages"]]
    assert roles[0] == "system"
    assert "user" in roles
    user = next(m["content"] for m in structured["messages"] if m["role"] == "user")
    assert "marker-91c2" in user
    assert "**performance**" in user
    assert "Go" in structured["text"]
    assert result["content"][0]["type"] == "text"
    assert "marker-91c2" in result["content"][0]["text"]


def test_tools_call_of_an_unknown_template_is_a_tool_error(node_clients: NodeClients, big_home: Path) -> None:
    done = node_clients.inspector(
        big_home, "--method", "tools/call", "--tool-name", "render_template", "--tool-arg", "name=no-such-template"
    )
    assert done.returncode == 5, done.describe()  # the inspector's exit code for a result with isError: true
    result = done.json()["result"]
    assert result["isError"] is True
    assert "no-such-template" in result["content"][0]["text"]
