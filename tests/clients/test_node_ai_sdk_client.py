"""The Vercel AI SDK's MCP client (@ai-sdk/mcp 2.0.99, Node 22) against ``pba-tunnel serve`` over stdio.

The client probes with ``server/discover``, waits one second, then falls back to ``initialize`` (issue 10,
defect 1): a server whose first answer comes late commits the connection to the newer protocol and then refuses
the ``initialize``. ai_sdk_client.mjs connects, lists the tools, builds the AI SDK tool set, calls
render_template, walks prompts/list and gets a prompt; it must work every time, so it runs three times.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from node_clients import (
    NodeClients,
    big_home_fixture,  # noqa: F401  (the big_home fixture)
    big_home_names_fixture,  # noqa: F401  (the big_home_names fixture)
    node_clients_fixture,  # noqa: F401  (the node_clients fixture)
    run,
    server_env,
)

AI_SDK_SCRIPT = Path(__file__).with_name("ai_sdk_client.mjs")
TOOLS = {"render_template", "search_templates"}  # at least these; the full set is the server's business


def run_ai_sdk_client(clients: NodeClients, home: Path) -> tuple[int, dict[str, Any], str]:
    """Run ai_sdk_client.mjs against a stdio server on the store under ``home``: exit code, summary, stderr."""
    plan = {
        "command": sys.executable,
        "args": ["-m", "pba_tunnel", "serve"],
        "prompt": {"name": "code-review", "arguments": {"language": "Go", "code": "x := 1 // marker-a1sdk"}},
        "tool": {
            "name": "render_template",
            "arguments": {"name": "generated-007", "arguments": {"who": "marker-v3rcel"}},
        },
    }
    done = run(
        [str(clients.node), str(clients.script(AI_SDK_SCRIPT)), json.dumps(plan)],
        env=server_env(home, PATH=clients.env()["PATH"], PBA_TUNNEL_LOG_LEVEL="warning"),
    )
    lines = done.stdout.strip().splitlines()
    try:
        summary: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise AssertionError(f"no JSON summary\n{done.describe()}") from None
    return done.returncode, summary, done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_ai_sdk_connects_over_stdio_lists_and_calls(
    node_clients: NodeClients, big_home: Path, big_home_names: set[str], attempt: int
) -> None:
    code, summary, stderr = run_ai_sdk_client(node_clients, big_home)
    shown = {k: v for k, v in summary.items() if k not in {"promptNames", "prompt", "capabilities"}}
    assert code == 0, f"attempt {attempt}: {json.dumps(shown, indent=1)[:4000]}\n--- stderr (end)\n{stderr[-3000:]}"
    assert summary["ok"] is True
    assert summary["serverInfo"]["name"] == "pba-tunnel"

    assert set(summary["toolNames"]) >= TOOLS
    assert set(summary["toolSetNames"]) == set(summary["toolNames"])  # the AI SDK took every tool

    tool = summary["tool"]
    assert tool["isError"] is False
    assert "Hello marker-v3rcel from generated-007!" in tool["content"][0]["text"]

    names = summary["promptNames"]
    assert sum(summary["pageSizes"]) == len(names)
    assert len(names) == len(set(names))
    assert {"code-review", "generated-000", "generated-129"} <= set(names) <= big_home_names

    text = "\n".join(m["content"]["text"] for m in summary["prompt"]["messages"])
    assert "marker-a1sdk" in text
