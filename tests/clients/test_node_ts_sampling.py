"""The TypeScript SDK client (@modelcontextprotocol/sdk 1.32.2, Node 22) lends its model to enhance_template.

ts_sampling_client.mjs starts ``pba-tunnel serve`` over stdio, declares ``capabilities: {sampling: {}}`` and
answers every ``sampling/createMessage`` with a scripted improved template; the tool call goes through the
SDK dispatch (not the stdio fast path) and the enhanced source must come back and be saved.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from node_clients import (
    RUN_TIMEOUT,
    NodeClients,
    kill_group,
    make_store,
    node_clients_fixture,  # noqa: F401  (the node_clients fixture)
    pba_tunnel,
    server_env,
)

TS_SAMPLING_SCRIPT = Path(__file__).with_name("ts_sampling_client.mjs")
GREET = """---
name: greet-ts
description: Greets someone.
arguments:
  - name: who
    description: Who to greet
---
Hello {{ who }}!
"""
IMPROVED = """---
name: greet-ts
description: Greets one person warmly by name.
arguments:
  - name: who
    description: The name of the person to greet, e.g. Ada
---
user:
Hello {{ who }}, welcome aboard (marker-t5)!
"""


def run_sampling_client(clients: NodeClients, plan: dict[str, Any], home: Path) -> tuple[int, dict[str, Any], str]:
    """Run ts_sampling_client.mjs with ``plan``; its exit code, JSON summary and stderr."""
    process = subprocess.Popen(
        [str(clients.node), str(clients.script(TS_SAMPLING_SCRIPT)), json.dumps(plan)],
        env=server_env(home, PATH=clients.env()["PATH"], PBA_TUNNEL_LOG_LEVEL="warning"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
    finally:
        kill_group(process)
    lines = stdout.strip().splitlines()
    assert lines, f"ts_sampling_client.mjs printed nothing (exit {process.returncode})\n{stderr}"
    try:
        summary = json.loads(lines[-1])
    except ValueError:
        raise AssertionError(f"no JSON summary (exit {process.returncode})\n{stdout}\n{stderr}") from None
    return process.returncode, summary, stderr


def test_ts_sdk_client_answers_sampling_for_enhance_template(node_clients: NodeClients, tmp_path: Path) -> None:
    home = make_store(tmp_path, 0)  # seeded: it brings the enhance-<goal> instruction templates
    source = tmp_path / "greet-ts.md"
    source.write_text(GREET, encoding="utf-8")
    pba_tunnel("import", str(source), home=home)
    plan = {
        "command": sys.executable,
        "args": ["-m", "pba_tunnel", "serve"],
        "tool": {"name": "enhance_template", "arguments": {"name": "greet-ts", "goal": "clarity", "save": True}},
        "reply": f"Improved:\n\n```markdown\n{IMPROVED}```\n",
        "model": "ts-stub-model",
    }

    code, summary, stderr = run_sampling_client(node_clients, plan, home)

    assert code == 0, f"exit {code}\n{json.dumps(summary, indent=1)[:4000]}\n{stderr[-4000:]}"
    [request] = summary["samplingRequests"]
    assert request["maxTokens"] == 4096
    assert "expert prompt engineer" in request["systemPrompt"]
    assert "Improve the clarity of the template below." in request["messages"][0]["content"]["text"]
    assert "Hello {{ who }}!" in request["messages"][0]["content"]["text"]

    tool = summary["tool"]
    assert tool["isError"] is False, tool
    out = tool["structuredContent"]
    assert out["source"] == IMPROVED
    assert out["provider"] == "sampling"
    assert out["model"] == "ts-stub-model"
    assert out["saved_version"] == 2
    assert json.loads(tool["content"][0]["text"]) == out

    shown = pba_tunnel("show", "greet-ts", home=home).stdout
    assert "marker-t5" in shown
