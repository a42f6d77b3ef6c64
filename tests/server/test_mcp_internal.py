"""Internal templates through the SDK's own client (issue 10, defect 6): never listed, usable by name."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client
from mcp.types import ResourceTemplateReference, TextContent, TextResourceContents
from mcp_server_support import GREET_SOURCE

from conftest import template_source
from pba_tunnel.server.app import McpApp
from pba_tunnel.server.slot import ServiceSlot
from pba_tunnel.service import TemplateService

pytestmark = pytest.mark.anyio

INSTRUCTION = template_source(
    description="Greeting instructions used by a tool, not a slash command.",
    body="user:\nHello {{ who }}, from the instructions.",
    extra="internal: true\n",
)


@pytest.fixture
async def client(service: TemplateService) -> AsyncIterator[Client]:
    await service.create(INSTRUCTION, name="greet-instructions")
    await service.create(GREET_SOURCE, name="greet")
    app = McpApp(ServiceSlot.of(service))
    async with Client(app.server, mode="legacy", cache=None) as client:
        yield client


async def tool(client: Client, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, arguments)
    assert result.is_error is False, result.content
    assert result.structured_content is not None
    return result.structured_content


async def read(client: Client, uri: str) -> str:
    contents = (await client.read_resource(uri)).contents
    assert isinstance(contents[0], TextResourceContents)
    return contents[0].text


async def test_an_internal_template_is_listed_nowhere(client: Client) -> None:
    assert [p.name for p in (await client.list_prompts()).prompts] == ["greet"]
    resources = (await client.list_resources()).resources
    assert [r.uri for r in resources] == ["templates://index", "stats://templates", "template://greet"]
    index = json.loads(await read(client, "templates://index"))
    assert [t["name"] for t in index["templates"]] == ["greet"]
    listed = await tool(client, "list_templates", {})
    assert [t["name"] for t in listed["templates"]] == ["greet"]
    found = await tool(client, "search_templates", {"query": "instructions"})
    assert [hit["name"] for hit in found["results"]] == []
    reference = ResourceTemplateReference(type="ref/resource", uri="template://{name}")
    completion = await client.complete(reference, {"name": "name", "value": "greet"})
    assert completion.completion.values == ["greet"]


async def test_an_internal_template_is_usable_by_name(client: Client) -> None:
    prompt = await client.get_prompt("greet-instructions", {"who": "Ann"})
    assert [(m.role, m.content) for m in prompt.messages] == [
        ("user", TextContent(type="text", text="Hello Ann, from the instructions."))
    ]
    rendered = await tool(client, "render_template", {"name": "greet-instructions", "arguments": {"who": "Ann"}})
    assert rendered["text"] == "Hello Ann, from the instructions."
    got = await tool(client, "get_template", {"name": "greet-instructions"})
    assert (got["source"], got["internal"]) == (INSTRUCTION, True)
    assert await read(client, "template://greet-instructions") == INSTRUCTION
    assert await read(client, "template://greet-instructions@1") == INSTRUCTION
