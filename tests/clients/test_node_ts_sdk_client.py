"""The TypeScript SDK client (@modelcontextprotocol/sdk 1.32.2, Node 22) against ``pba-tunnel serve``.

ts_client.mjs connects, walks every page of prompts/list, gets a prompt, calls render_template, prints READY
and waits; this test then writes a template from ANOTHER process (``pba-tunnel import``) and the client must
receive ``notifications/prompts/list_changed`` and see the new template when it lists again.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from node_clients import (
    RUN_TIMEOUT,
    TS_CLIENT_SCRIPT,
    NodeClients,
    cli_prompt_names,
    http_server,
    kill_group,
    make_store,
    node_clients_fixture,  # noqa: F401  (the node_clients fixture)
    pba_tunnel,
    server_env,
)

GENERATED = 130
NEW_TEMPLATE = """---
name: written-by-another-process
description: Imported while a client was connected.
---
user:
Hello from the other process.
"""


PAGE_SIZE = "50"  # small pages (the default keeps 1,000 on one), so the client must follow nextCursor


def run_ts_client(
    clients: NodeClients, plan: dict[str, Any], home: Path, on_ready: Callable[[], None]
) -> tuple[int, dict[str, Any]]:
    """Run ts_client.mjs with ``plan``; call ``on_ready()`` once it prints READY; its exit code and summary."""
    process = subprocess.Popen(
        [str(clients.node), str(clients.script(TS_CLIENT_SCRIPT)), json.dumps(plan)],
        env=server_env(home, PATH=clients.env()["PATH"], PBA_TUNNEL_PAGE_SIZE=PAGE_SIZE),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    stderr: list[str] = []

    def pump_stdout() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    def pump_stderr() -> None:
        assert process.stderr is not None
        stderr.extend(process.stderr)

    readers = [threading.Thread(target=pump_stdout, daemon=True), threading.Thread(target=pump_stderr, daemon=True)]
    for reader in readers:
        reader.start()
    out: list[str] = []
    try:
        while True:
            try:
                line = lines.get(timeout=RUN_TIMEOUT)
            except queue.Empty:
                raise AssertionError(f"ts_client.mjs printed nothing more\n{out}\n{''.join(stderr)}") from None
            if line is None:
                break
            out.append(line)
            if line == "READY":
                on_ready()
        process.wait(timeout=RUN_TIMEOUT)
    finally:
        kill_group(process)
        for reader in readers:
            reader.join(timeout=10)
    assert out, f"ts_client.mjs printed nothing (exit {process.returncode})\n{''.join(stderr)}"
    try:
        summary = json.loads(out[-1])
    except ValueError:
        raise AssertionError(f"no JSON summary (exit {process.returncode})\n{out}\n{''.join(stderr)}") from None
    assert "READY" in out, f"{summary}\n{''.join(stderr)}"
    summary["_stderr"] = "".join(stderr)
    return process.returncode, summary


@pytest.fixture(params=["stdio", "http"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return make_store(tmp_path, GENERATED)


@pytest.fixture
def target(transport: str, store: Path, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """How the client reaches the server: a stdio command it starts, or a running HTTP server's URL."""
    if transport == "stdio":
        yield {"command": sys.executable, "args": ["-m", "pba_tunnel", "serve"]}
    else:
        with http_server(store, tmp_path / "server.log", env={"PBA_TUNNEL_PAGE_SIZE": PAGE_SIZE}) as server:
            yield {"url": server.url}


def test_ts_sdk_client_pages_renders_and_hears_another_process_write(
    node_clients: NodeClients, store: Path, target: dict[str, Any], tmp_path: Path
) -> None:
    expected = cli_prompt_names(store)
    assert len(expected) > 100
    new_file = tmp_path / "new-template.md"
    new_file.write_text(NEW_TEMPLATE, encoding="utf-8")
    plan = {
        **target,
        "prompt": {"name": "code-review", "arguments": {"language": "Rust", "code": "let x = 1; // marker-c0de"}},
        "tool": {
            "name": "render_template",
            "arguments": {"name": "generated-042", "arguments": {"who": "marker-wh0"}},
        },
        "waitSeconds": 60,
    }
    imported: list[str] = []

    def write_from_another_process() -> None:
        imported.append(pba_tunnel("import", str(new_file), home=store).stdout)

    code, summary = run_ts_client(node_clients, plan, store, write_from_another_process)
    shown = {k: v for k, v in summary.items() if k not in {"promptNames", "promptNamesAfter", "prompt", "_stderr"}}
    assert code == 0, (
        f"exit {code}\n{json.dumps(shown, indent=1)[:4000]}\n--- import\n{imported}\n"
        f"--- client and server stderr (end)\n{summary['_stderr'][-4000:]}"
    )
    assert len(imported) == 1
    assert "added 1" in imported[0], imported

    assert summary["serverVersion"]["name"] == "pba-tunnel"
    assert summary["serverCapabilities"]["prompts"]["listChanged"] is True

    # prompts/list: several pages, followed to the end, nothing missing or repeated.
    names = summary["promptNames"]
    assert summary["pages"] >= 2, summary["pageSizes"]
    assert sum(summary["pageSizes"]) == len(names)
    assert len(names) == len(set(names))
    assert set(names) == expected
    assert {"code-review", "generated-000", "generated-129"} <= set(names)

    # prompts/get with arguments.
    messages = summary["prompt"]["messages"]
    assert {m["role"] for m in messages} <= {"user", "assistant"}
    text = "\n".join(m["content"]["text"] for m in messages)
    assert "marker-c0de" in text
    assert "Rust" in text

    # tools/call render_template.
    tool = summary["tool"]
    assert tool["isError"] is False
    assert tool["structuredContent"]["name"] == "generated-042"
    assert [m["role"] for m in tool["structuredContent"]["messages"]] == ["user"]
    assert "Hello marker-wh0 from generated-042!" in tool["structuredContent"]["messages"][0]["content"]
    assert "marker-wh0" in tool["content"][0]["text"]

    # The write by another process reached the connected client, and listing again shows it.
    assert summary["notificationsBeforeReady"] == 0
    assert summary["notification"]["method"] == "notifications/prompts/list_changed"
    assert summary["listChangedNotifications"] >= 1
    assert set(summary["promptNamesAfter"]) == expected | {"written-by-another-process"}
