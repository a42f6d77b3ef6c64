"""The two stdio transports: which one serves, and that both serve a file of requests to its end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp_server_support import GREET_SOURCE, WAIT_SECONDS, is_jsonrpc, prepare_store, server_env

CHOOSE = "from pba_tunnel.server.stdio import stdio_transport; print(stdio_transport(sys.argv[1])[0])"


def chosen(home: Path, choice: str, stdin: int | object) -> str:
    """The transport ``serve`` would use with this stdin (stdout is a pipe, as under every MCP client)."""
    result = subprocess.run(
        [sys.executable, "-c", f"import sys; {CHOOSE}", choice],
        stdin=stdin,  # type: ignore[arg-type]
        capture_output=True,
        env=server_env(home),
        timeout=WAIT_SECONDS,
        check=True,
    )
    return result.stdout.decode().strip()


@pytest.mark.skipif(sys.platform == "win32", reason="the pipe transport exists only on Unix")
def test_the_pipe_transport_serves_pipes_and_the_portable_one_everything_else(home: Path, tmp_path: Path) -> None:
    assert chosen(home, "auto", subprocess.PIPE) == "unix-pipe"
    assert chosen(home, "portable", subprocess.PIPE) == "portable"
    requests = tmp_path / "requests.jsonl"
    requests.write_text("", encoding="utf-8")
    with requests.open("rb") as regular_file:
        assert chosen(home, "auto", regular_file) == "portable"  # the event loop cannot watch a regular file
    assert chosen(home, "auto", subprocess.DEVNULL) == "portable"  # a character device, like a terminal


def request(request_id: int, method: str, params: dict[str, object] | None = None) -> str:
    message: dict[str, object] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return json.dumps(message)


REQUESTS = [
    request(
        1,
        "initialize",
        {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "f", "version": "1"}},
    ),
    json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    request(2, "prompts/list"),
    request(3, "prompts/get", {"name": "greet", "arguments": {"who": "Ann"}}),
    "this line is not JSON",
    request(4, "prompts/get", {"name": "greet", "arguments": "notadict"}),
    request(5, "tools/call", {"name": "render_template", "arguments": {"name": "greet", "arguments": {"who": "Bo"}}}),
    request(6, "resources/read", {"uri": "template://greet"}),
    request(7, "prompts/get", {"name": "nope"}),
]


@pytest.mark.parametrize("transport", ["auto", "portable"])
def test_serve_answers_every_request_of_a_file_and_exits_at_its_end(home: Path, tmp_path: Path, transport: str) -> None:
    anyio.run(prepare_store, home, {"greet": GREET_SOURCE})
    requests = tmp_path / "requests.jsonl"
    requests.write_text("\n".join(REQUESTS) + "\n", encoding="utf-8")

    with requests.open("rb") as stdin:
        result = subprocess.run(
            [sys.executable, "-m", "pba_tunnel", "serve", "--stdio-transport", transport],
            stdin=stdin,
            capture_output=True,
            env=server_env(home),
            timeout=WAIT_SECONDS * 2,
        )

    assert result.returncode == 0, result.stderr.decode()
    lines = result.stdout.splitlines()
    assert [line for line in lines if not is_jsonrpc(line)] == []
    answers = {message["id"]: message for message in map(json.loads, lines)}
    assert sorted(answers, key=str) == sorted([1, 2, 3, 4, 5, 6, 7, None], key=str)
    assert answers[None]["error"]["code"] == -32700
    assert [p["name"] for p in answers[2]["result"]["prompts"]] == ["greet"]
    assert answers[3]["result"]["messages"][0]["content"]["text"] == "Hello Ann!"
    assert answers[4]["error"]["code"] == -32602
    assert answers[5]["result"]["structuredContent"]["text"] == "Hello Bo!"
    assert answers[6]["result"]["contents"][0]["text"] == GREET_SOURCE
    assert answers[7]["error"]["code"] == -32602


HOSTILE_LINES = [
    request(
        1,
        "initialize",
        {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "h", "version": "1"}},
    ),
    json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    # a lone surrogate in an argument: no UTF-8 can carry it
    '{"jsonrpc":"2.0","id":2,"method":"prompts/get","params":{"name":"greet","arguments":{"who":"\\ud800"}}}',
    "[" * 20_000,  # nesting far beyond any parser's recursion limit
    request(3, "prompts/get", {"name": "greet", "arguments": ["who", "Ann"]}),  # arguments of the wrong type
    request(4, "ping"),
]


@pytest.mark.parametrize("transport", ["auto", "portable"])
def test_hostile_lines_get_errors_and_the_server_keeps_answering(home: Path, tmp_path: Path, transport: str) -> None:
    anyio.run(prepare_store, home, {"greet": GREET_SOURCE})
    requests = tmp_path / "hostile.jsonl"
    requests.write_text("\n".join(HOSTILE_LINES) + "\n", encoding="utf-8")

    # auto: a pipe (the Unix transport); portable: the file itself as stdin (the SDK's transport)
    with requests.open("rb") as file:
        stdin: dict[str, object] = {"input": requests.read_bytes()} if transport == "auto" else {"stdin": file}
        result = subprocess.run(
            [sys.executable, "-m", "pba_tunnel", "serve", "--stdio-transport", transport],
            capture_output=True,
            env=server_env(home),
            timeout=WAIT_SECONDS * 2,
            **stdin,  # type: ignore[call-overload]
        )

    assert result.returncode == 0, result.stderr.decode()[-2000:]
    lines = result.stdout.splitlines()
    assert [line for line in lines if not is_jsonrpc(line)] == []
    answers = [json.loads(line) for line in lines]
    assert [a["error"]["code"] for a in answers if a["id"] is None] == [-32700, -32700]
    by_id = {a["id"]: a for a in answers if a["id"] is not None}
    assert by_id[3]["error"]["code"] == -32602
    assert by_id[4]["result"] == {}
