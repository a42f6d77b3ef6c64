"""enhance_template through the SDK's own client, in-process: the client's model answers through MCP sampling.

Handshake era (``mode="legacy"``): the server sends ``sampling/createMessage`` mid-call. 2026-07-28 era
(``mode="auto"``): the server answers ``InputRequiredResult`` with the sampling request(s) and the client's
driver retries the call with the answers. Either way the callback below is the only "model".
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from mcp import Client
from mcp.types import (
    CallToolResult,
    CreateMessageRequestParams,
    CreateMessageResult,
    TextContent,
)
from mcp_server_support import GREET_SOURCE, PROMPTS_CHANGED, NotificationLog, open_service, serving, stdio_server

from pba_tunnel.enhance.core import DEFAULT_MAX_TOKENS, RETRY_MESSAGE
from pba_tunnel.errors import ProviderError
from pba_tunnel.providers import ProviderConfig, get_provider
from pba_tunnel.server.app import McpApp
from pba_tunnel.service import TemplateService

# The SDK marks server-to-client sampling deprecated as of 2026-07-28; handshake-era clients still use it.
pytestmark = [pytest.mark.anyio, pytest.mark.filterwarnings("ignore:The sampling capability is deprecated")]

IMPROVED = """---
description: Greets one person warmly by name.
arguments:
  - name: who
    description: The name of the person to greet, e.g. Ada
---
user:
Hello {{ who }}, and welcome! Greet them in one friendly sentence.
"""
RENAMED = IMPROVED.replace("---\ndescription", "---\nname: salutation\ndescription", 1)
ALTERNATIVES = ("provider=openai", "OPENAI_API_KEY", "provider=anthropic", "ANTHROPIC_API_KEY", "provider=ollama")


class ScriptedModel:
    """A sampling callback: answers each request with the next scripted text (fenced, as models do)."""

    def __init__(self, *answers: str, model: str = "stub-model") -> None:
        self.answers = list(answers)
        self.model = model
        self.requests: list[CreateMessageRequestParams] = []

    async def __call__(self, _ctx: Any, params: CreateMessageRequestParams) -> CreateMessageResult:
        self.requests.append(params)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        hints = params.model_preferences.hints if params.model_preferences else None
        model = hints[0].name if hints and hints[0].name else self.model
        return CreateMessageResult(
            role="assistant",
            model=model,
            stop_reason="endTurn",
            content=TextContent(type="text", text=f"Here it is:\n\n```markdown\n{answer}```\n"),
        )


@pytest.fixture
async def service(home: Path) -> AsyncIterator[TemplateService]:
    """A seeded store (it brings the enhance-<goal> instruction templates) plus ``greet``."""
    opened = await open_service(home, PBA_TUNNEL_SEED="1")
    try:
        await opened.create(GREET_SOURCE, name="greet")
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def app(service: TemplateService) -> AsyncIterator[McpApp]:
    async with serving(service) as app:
        yield app


@pytest.fixture(params=["legacy", "auto"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def text_of(result: CallToolResult) -> str:
    assert len(result.content) == 1
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def user_text(params: CreateMessageRequestParams) -> str:
    return "\n".join(m.content.text for m in params.messages if isinstance(m.content, TextContent))


async def structured_result(client: Client, arguments: dict[str, Any]) -> dict[str, Any]:
    """Call enhance_template, expect success, check the result against the tool's outputSchema."""
    result = await client.call_tool("enhance_template", arguments)
    assert result.is_error is False, text_of(result)
    assert result.structured_content is not None
    schema = next(t.output_schema for t in (await client.list_tools()).tools if t.name == "enhance_template")
    assert schema is not None
    jsonschema.validate(result.structured_content, schema, cls=jsonschema.Draft202012Validator)
    return result.structured_content


def assert_enhance_request(params: CreateMessageRequestParams) -> None:
    """The sampling request carries the rendered enhance-clarity instruction around the template's source."""
    assert params.max_tokens == DEFAULT_MAX_TOKENS
    assert params.temperature == 0.3  # the instruction template's model hint
    assert params.system_prompt is not None
    assert "expert prompt engineer" in params.system_prompt
    assert [m.role for m in params.messages] == ["user"]
    text = user_text(params)
    assert "Improve the clarity of the template below." in text
    assert "Hello {{ who }}!" in text  # the template to improve, inside <template>
    assert "{% include" not in text  # rendered, not raw Jinja
    assert "{{ source" not in text


async def test_handshake_era_sampling_enhances_without_saving(app: McpApp, service: TemplateService) -> None:
    model = ScriptedModel(IMPROVED)
    async with Client(app.server, mode="legacy", sampling_callback=model, cache=None) as client:
        assert client.protocol_version == "2025-11-25"
        out = await structured_result(client, {"name": "greet"})

    assert len(model.requests) == 1
    assert_enhance_request(model.requests[0])
    assert out["name"] == "greet"
    assert out["goal"] == "clarity"
    assert out["source"] == IMPROVED
    assert out["provider"] == "sampling"
    assert out["model"] == "stub-model"
    assert out["attempts"] == 1
    assert "saved_version" not in out
    assert "+Hello {{ who }}, and welcome!" in out["diff"]
    assert "-Hello {{ who }}!" in out["diff"]
    assert (await service.get("greet")).version == 1  # nothing written


async def test_handshake_era_save_writes_a_version_and_tells_clients(app: McpApp, service: TemplateService) -> None:
    model = ScriptedModel(IMPROVED)
    log = NotificationLog()
    async with Client(app.server, mode="legacy", sampling_callback=model, message_handler=log, cache=None) as client:
        out = await structured_result(client, {"name": "greet", "save": True})
        await log.wait_for(PROMPTS_CHANGED, 1)  # a write, like update_template

    assert out["saved_version"] == 2
    stored = await service.get("greet")
    assert stored.version == 2
    assert "and welcome!" in stored.source
    history = await service.history("greet")
    assert history[-1].origin == "enhance"
    assert history[-1].message is not None
    assert "sampling" in history[-1].message
    assert "stub-model" in history[-1].message


async def test_modern_era_samples_through_input_required_rounds_and_saves(
    app: McpApp, service: TemplateService
) -> None:
    # The first answer renames the template, so enhance() retries with feedback: two sampling requests,
    # each its own input-required round, the first answer carried in the sealed requestState.
    model = ScriptedModel(RENAMED, IMPROVED)
    async with Client(app.server, mode="auto", sampling_callback=model, cache=None) as client:
        assert client.protocol_version == "2026-07-28"
        out = await structured_result(client, {"name": "greet", "save": True})

    assert [len(r.messages) for r in model.requests] == [1, 3]
    assert_enhance_request(model.requests[0])
    retry = model.requests[1]
    assert retry.messages[1].role == "assistant"
    assert "salutation" in user_text(retry)
    assert RETRY_MESSAGE.split("{", 1)[0] in user_text(retry)
    assert out["source"] == IMPROVED
    assert out["attempts"] == 2
    assert out["provider"] == "sampling"
    assert out["saved_version"] == 2
    assert (await service.get("greet")).version == 2
    assert len(await service.history("greet")) == 2  # saved once, not once per round


async def test_compare_asks_the_client_once_per_candidate(app: McpApp, service: TemplateService, mode: str) -> None:
    model = ScriptedModel(IMPROVED)
    async with Client(app.server, mode=mode, sampling_callback=model, cache=None) as client:
        out = await structured_result(client, {"name": "greet", "compare": ["sampling", "sampling:bigger-model"]})

    assert len(model.requests) == 2
    for params in model.requests:
        assert_enhance_request(params)
    hinted = [
        r.model_preferences.hints[0].name for r in model.requests if r.model_preferences and r.model_preferences.hints
    ]
    assert hinted == ["bigger-model"]
    candidates = out["candidates"]
    assert [c["ok"] for c in candidates] == [True, True]
    assert [c["result"]["model"] for c in candidates] == ["stub-model", "bigger-model"]
    assert all(c["result"]["source"] == IMPROVED for c in candidates)
    assert out["source"] == IMPROVED
    assert (await service.get("greet")).version == 1  # compare never saves


@pytest.mark.parametrize("arguments", [{"name": "greet"}, {"name": "greet", "provider": "sampling"}])
async def test_a_client_without_sampling_is_told_the_alternatives(
    app: McpApp, service: TemplateService, mode: str, arguments: dict[str, Any]
) -> None:
    async with Client(app.server, mode=mode, cache=None) as client:
        result = await client.call_tool("enhance_template", arguments)

    assert result.is_error is True
    message = text_of(result)
    assert "sampling capability" in message
    for alternative in ALTERNATIVES:
        assert alternative in message
    assert (await service.get("greet")).version == 1


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"name": "greet", "provider": "no-such-llm"}, "unknown provider 'no-such-llm'"),
        ({"name": "nobody"}, "enhance_template failed: "),
        ({"source": GREET_SOURCE, "save": True}, "save needs a stored template"),
        ({"name": "greet", "goal": "sparkle"}, "invalid arguments for enhance_template: goal:"),
        ({"name": "greet", "compare": ["sampling", "ollama"], "save": True}, "compare cannot save"),
        ({"name": "greet", "compare": ["sampling"]}, "invalid arguments for enhance_template: compare:"),
    ],
    ids=["unknown-provider", "unknown-template", "save-raw-source", "bad-goal", "compare-save", "compare-one"],
)
async def test_user_errors_are_tool_errors(app: McpApp, mode: str, arguments: dict[str, Any], expected: str) -> None:
    model = ScriptedModel(IMPROVED)
    async with Client(app.server, mode=mode, sampling_callback=model, cache=None) as client:
        result = await client.call_tool("enhance_template", arguments)

    assert result.is_error is True
    assert expected in text_of(result)
    assert model.requests == []


async def test_over_stdio_in_both_eras(service: TemplateService, home: Path, mode: str) -> None:
    # A real server subprocess on the same store: the call takes the SDK path, not the stdio fast path.
    model = ScriptedModel(IMPROVED)
    async with Client(stdio_server(home), mode=mode, sampling_callback=model, cache=None) as client:
        out = await structured_result(client, {"name": "greet", "save": True})

    assert len(model.requests) == 1
    assert_enhance_request(model.requests[0])
    assert out["source"] == IMPROVED
    assert out["saved_version"] == 2
    assert (await service.get("greet")).version == 2


def test_the_sampling_provider_only_exists_inside_an_mcp_request() -> None:
    with pytest.raises(ProviderError) as raised:
        get_provider("sampling", ProviderConfig())
    message = raised.value.message
    assert "only works through an MCP client" in message
    for name in ("openai", "anthropic", "ollama"):
        assert name in message
