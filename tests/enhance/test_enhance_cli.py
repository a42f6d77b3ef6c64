"""``pba-tunnel enhance`` end to end: the real CLI against a local OpenAI-compatible server."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from chat_server import ChatServer
from conftest import template_source

ORIGINAL = template_source(body="user:\nHello {{ who }}!")
IMPROVED = (
    "---\ndescription: Greets someone by name in one friendly sentence.\narguments:\n"
    "  - name: who\n    description: The name of the person to greet, e.g. Ada\n---\n"
    "system:\nYou write short greetings.\n\nuser:\nGreet {{ who }} in one friendly sentence.\n"
)
ANSWER = f"```markdown\n{IMPROVED}```\n\n- Added a role and an explicit length.\n"


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    server = ChatServer(ANSWER)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def env(chat_server: ChatServer) -> dict[str, str]:
    return {
        "OPENAI_BASE_URL": f"{chat_server.url}/v1",
        "OPENAI_API_KEY": "test-key",
        "OLLAMA_HOST": chat_server.url,  # answers 404 on /api/chat: a provider that fails
        "PBA_TUNNEL_PROVIDER_RETRIES": "0",
    }


@pytest.fixture
def greet(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "greet.md"
    source.write_text(ORIGINAL, encoding="utf-8")
    assert cli("import", str(source)).returncode == 0


DIFF = "".join(
    difflib.unified_diff(
        ORIGINAL.splitlines(keepends=True),
        IMPROVED.splitlines(keepends=True),
        fromfile="greet@1",
        tofile="greet (enhanced)",
    )
)
SUMMARY = re.compile(
    r"greet: enhanced by openai/small-model \(clarity\); tokens 321 in, 87 out; \d+ ms; (not saved|saved as version 2)"
)


@pytest.mark.usefixtures("greet")
def test_enhance_shows_the_diff_and_saves_only_when_asked(cli, env: dict[str, str], chat_server: ChatServer) -> None:  # type: ignore[no-untyped-def]
    shown = cli("enhance", "greet", "--model", "small-model", env=env)
    assert (shown.returncode, shown.stderr) == (0, "")
    assert shown.stdout.startswith(DIFF)
    summary = shown.stdout.removeprefix(DIFF)
    assert SUMMARY.fullmatch(summary.rstrip("\n"))
    assert summary.endswith("; not saved\n")
    assert [v["version"] for v in json.loads(cli("history", "greet", "--json").stdout)] == [1]

    path, headers, body = chat_server.requests[0]
    assert (path, headers["Authorization"], body["model"], body["max_tokens"], body["temperature"]) == (
        "/v1/chat/completions",
        "Bearer test-key",
        "small-model",
        4096,
        0.3,
    )
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "<template>\n" + ORIGINAL.strip() + "\n</template>" in body["messages"][1]["content"]

    saved = cli("enhance", "greet", "--model", "small-model", "--save", "--json", env=env)
    assert (saved.returncode, saved.stderr) == (0, "")
    result = json.loads(saved.stdout)
    assert result.pop("latency_ms") >= 0
    assert result == {
        "name": "greet",
        "goal": "clarity",
        "source": IMPROVED,
        "diff": DIFF,
        "provider": "openai",
        "model": "small-model",
        "input_tokens": 321,
        "output_tokens": 87,
        "attempts": 1,
        "saved_version": 2,
    }
    history = json.loads(cli("history", "greet", "--json").stdout)
    assert [(v["version"], v["message"], v["origin"]) for v in history] == [
        (1, "imported from greet.md", "import"),
        (2, "enhanced by openai/small-model (clarity)", "enhance"),
    ]


@pytest.mark.usefixtures("greet")
def test_compare_shows_each_candidate_and_a_failing_provider(cli, env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    result = cli("enhance", "greet", "--model", "small-model", "--compare", "openai,ollama", env=env)
    assert (result.returncode, result.stderr) == (0, "")
    first, failure = result.stdout.removeprefix(DIFF).rstrip("\n").split("\n")
    assert result.stdout.startswith(DIFF)
    assert SUMMARY.fullmatch(first)
    assert failure.startswith("ollama/small-model: failed (provider_error): ollama rejected the request (HTTP 404)")


@pytest.mark.usefixtures("greet")
def test_usage_errors_are_one_line(cli, env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    assert cli("enhance", "greet", "--goal", "custom", env=env).stderr == (
        "error: goal 'custom' needs an instruction saying what to change\n"
    )
    assert cli("enhance", "greet", "--compare", "openai", env=env).stderr == (
        "error: --compare takes two or three providers separated by commas, got 1\n"
    )
    assert cli("enhance", "greet", "--compare", "openai,ollama", "--save", env=env).stderr == (
        "error: compare cannot save: compare first, then enhance and save with one provider\n"
    )
    unknown = cli("enhance", "greet", "--provider", "nope", env=env)
    assert (unknown.returncode, unknown.stderr.startswith("error: unknown provider 'nope'; installed providers: ")) == (
        1,
        True,
    )
