"""The Python ``mcp`` 1.x client (1.30.0 and 1.9.4, in venvs of their own) against ``pba-tunnel serve``.

mcp1_client.py connects over stdio, streamable HTTP or SSE, walks prompts/list, gets a prompt, calls
render_template and gets a prompt that does not exist. Each (version, transport) runs once per module and the
tests below each judge one part of its summary, so a failure names the behaviour that broke. Some judge what
issue 10 asks of the server: a first page that holds a normal library whole (clients that ignore
``nextCursor``), instruction templates hidden from prompts/list, and resource subscriptions that deliver
``notifications/resources/updated`` when another process saves a new version.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from node_clients import (
    big_home_fixture,  # noqa: F401  (the big_home fixture)
    big_home_names_fixture,  # noqa: F401  (the big_home_names fixture)
    http_server,
    make_store,
    write_generated_templates,
)
from python_clients import (
    MCP1_CLIENT_SCRIPT,
    MCP1_VERSIONS,
    PythonClients,
    pba_tunnel_argv,
    python_clients_fixture,  # noqa: F401  (the python_clients fixture)
    serve_command,
)

TRANSPORTS = ("stdio", "http", "sse")
INTERNAL = {"enhance-clarity", "enhance-structure", "enhance-examples", "enhance-concise", "enhance-custom"}
RUNS = [pytest.param(v, t, id=f"mcp{v}-{t}") for v in MCP1_VERSIONS for t in TRANSPORTS]
PLAN = {
    "prompt": {"name": "code-review", "arguments": {"language": "Python", "code": "x = 1  # marker-pyc1"}},
    "tool": {"name": "render_template", "arguments": {"name": "generated-011", "arguments": {"who": "marker-py0n"}}},
    "unknownPrompt": "no-such-template",
}


def failure(summary: dict[str, Any], stderr: str) -> str:
    """The client's summary for an assertion message: the failed step and error first, the long lists left out."""
    head = f"step {summary.get('step')!r}: {summary.get('error')}"
    shown = {k: v for k, v in summary.items() if k not in {"promptNames", "promptMessages", "error"}}
    return f"{head}\n{json.dumps(shown, indent=1)[:4000]}\n--- stderr (end)\n{stderr[-2000:]}"


@pytest.fixture(scope="module")
def servers(big_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    """How each transport reaches a server on ``big_home``: a stdio command, or a running HTTP or SSE server."""
    root = tmp_path_factory.mktemp("mcp1-servers")
    with (
        http_server(big_home, root / "http.log") as http,
        http_server(big_home, root / "sse.log", transport="sse") as sse,
    ):
        yield {
            "stdio": {"transport": "stdio", **serve_command()},
            "http": {"transport": "http", "url": http.url},
            "sse": {"transport": "sse", "url": sse.url},
        }


@pytest.fixture(scope="module")
def summaries(python_clients: PythonClients, big_home: Path, servers: dict[str, dict[str, Any]]) -> Any:
    """Runs the client once per (version, transport), on first use; its JSON summary."""
    cache: dict[tuple[str, str], dict[str, Any]] = {}

    def summary(version: str, transport: str) -> dict[str, Any]:
        if (version, transport) not in cache:
            plan = {**servers[transport], **PLAN}
            done, result = python_clients.script(f"mcp-{version}", MCP1_CLIENT_SCRIPT, plan, big_home)
            assert result["ok"], failure(result, done.stderr)
            assert result["mcpVersion"] == version
            cache[version, transport] = result
        return cache[version, transport]

    return summary


@pytest.mark.slow
@pytest.mark.parametrize(("version", "transport"), RUNS)
def test_mcp1_client_connects_and_walks_every_page(
    summaries: Any, big_home_names: set[str], version: str, transport: str
) -> None:
    summary = summaries(version, transport)
    assert summary["serverName"] == "pba-tunnel"
    assert summary["capabilities"]["prompts"] is not None
    names = summary["promptNames"]
    assert sum(summary["pageSizes"]) == len(names)
    assert len(names) == len(set(names))
    generated = {f"generated-{i:03d}" for i in range(130)}
    assert generated | {"code-review"} <= set(names) <= big_home_names


@pytest.mark.parametrize(("version", "transport"), RUNS)
def test_mcp1_client_gets_a_prompt_and_renders_a_template(summaries: Any, version: str, transport: str) -> None:
    summary = summaries(version, transport)
    text = "\n".join(message["text"] for message in summary["promptMessages"])
    assert "marker-pyc1" in text
    assert "Python" in text
    tool = summary["tool"]
    assert tool["isError"] is False
    assert "Hello marker-py0n from generated-011!" in tool["text"][0]


@pytest.mark.parametrize(("version", "transport"), RUNS)
def test_mcp1_client_unknown_prompt_is_invalid_params(summaries: Any, version: str, transport: str) -> None:
    unknown = summaries(version, transport)["unknownPrompt"]
    assert unknown["code"] == -32602, unknown
    assert "no-such-template" in unknown["message"]


@pytest.mark.parametrize(("version", "transport"), RUNS)
def test_mcp1_client_that_ignores_next_cursor_still_sees_the_whole_library(
    summaries: Any, version: str, transport: str
) -> None:
    """Issue 10, defect 5: the default page holds a library of normal size (here ~165 prompts) whole."""
    summary = summaries(version, transport)
    assert summary["pageSizes"] == [len(summary["promptNames"])]


@pytest.mark.parametrize(("version", "transport"), RUNS)
def test_mcp1_client_does_not_see_instruction_templates(summaries: Any, version: str, transport: str) -> None:
    """Issue 10, defect 6: the enhance-* instruction templates are internal, not slash commands."""
    assert not INTERNAL & set(summaries(version, transport)["promptNames"])


UPDATED = (
    "---\nname: generated-001\ndescription: Generated template number 1, edited by another process.\n"
    "arguments:\n  - name: who\n    description: Who to greet\n    required: true\n---\n"
    "user:\nHello again {{ who }} from generated-001!\n"
)


@pytest.mark.slow
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_mcp1_client_hears_a_subscribed_template_change(
    python_clients: PythonClients, transport: str, tmp_path: Path
) -> None:
    """Issue 10, defect 2: a handshake-era subscription to template://NAME gets resources/updated on a new version
    saved by another process, over every transport."""
    home = make_store(tmp_path, 3)
    edited = tmp_path / "edited"
    write_generated_templates(edited, 0)
    (edited / "generated-001.md").write_text(UPDATED, encoding="utf-8")
    plan: dict[str, Any] = {
        **PLAN,
        "tool": {"name": "render_template", "arguments": {"name": "generated-001", "arguments": {"who": "x"}}},
        "subscribe": {
            "uri": "template://generated-001",
            "writer": list(pba_tunnel_argv("import", str(edited))),
            "waitSeconds": 30,
        },
    }
    if transport == "stdio":
        plan |= {"transport": "stdio", **serve_command()}
        done, summary = python_clients.script("mcp-1.30.0", MCP1_CLIENT_SCRIPT, plan, home)
    else:
        with http_server(home, tmp_path / "server.log", transport=transport) as server:
            plan |= {"transport": transport, "url": server.url}
            done, summary = python_clients.script("mcp-1.30.0", MCP1_CLIENT_SCRIPT, plan, home)
    assert summary["ok"], failure(summary, done.stderr)
    assert summary["writer"]["exit"] == 0, summary["writer"]
    assert summary["capabilities"]["resources"].get("subscribe") is True, summary["capabilities"]
    assert "template://generated-001" in summary["updatedUris"], failure(summary, done.stderr)


@pytest.mark.slow
def test_mcp1_client_on_stateless_http_is_promised_no_notifications(
    python_clients: PythonClients, big_home: Path, tmp_path: Path
) -> None:
    """Issue 10, defect 3: a stateless server cannot push, so it advertises no list changes and no subscriptions."""
    with http_server(big_home, tmp_path / "server.log", "--stateless") as server:
        plan = {"transport": "http", "url": server.url, **PLAN}
        done, summary = python_clients.script("mcp-1.30.0", MCP1_CLIENT_SCRIPT, plan, big_home)
    assert summary["ok"], failure(summary, done.stderr)
    capabilities = summary["capabilities"]
    promised = {
        f"{feature}.{flag}"
        for feature in ("prompts", "resources", "tools")
        for flag in ("listChanged", "subscribe")
        if (capabilities.get(feature) or {}).get(flag)
    }
    assert promised == set(), capabilities
    assert summary["tool"]["isError"] is False  # and it still serves
