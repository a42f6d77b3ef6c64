"""Labels through real MCP clients: a client configured for a label sees only that label's versions.

In process for the details; then ``serve --label`` on stdio and ``/mcp/LABEL`` over HTTP in subprocesses.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client, MCPError
from mcp.types import PromptReference, TextContent, TextResourceContents
from mcp_server_support import (
    PROMPTS_CHANGED,
    HttpServer,
    NotificationLog,
    cli_in_thread,
    http_servers,
    open_service,
    prepare_store,
    stdio_server,
)

from pba_tunnel.server.app import McpApp
from pba_tunnel.server.caller import CallerDefaults
from pba_tunnel.server.slot import ServiceSlot
from pba_tunnel.service import TemplateService

pytestmark = pytest.mark.anyio

V1 = """---
description: Greets someone.
arguments:
  - name: who
    description: Who to greet
    enum: [Ann, Bo]
---
Hello {{ who }}!
"""
V2 = V1.replace("Hello", "Hi").replace("Greets someone.", "Greets briefly.")
OTHER = V1.replace("Hello", "Bye").replace("Greets someone.", "Says goodbye.")


async def labelled_store(home: Path) -> None:
    """greet v1 (production) and v2 (newest); bye v1 without a label."""
    await prepare_store(home, {"greet": V1, "bye": OTHER})
    service = await open_service(home)
    try:
        await service.update("greet", V2)
        await service.set_label("greet", "production", version=1, author="cli", can_admin=True)
    finally:
        await service.close()


@pytest.fixture
async def service(home: Path) -> AsyncIterator[TemplateService]:
    await labelled_store(home)
    opened = await open_service(home)
    try:
        yield opened
    finally:
        await opened.close()


async def text_of(client: Client, name: str = "greet") -> str:
    content = (await client.get_prompt(name, {"who": "Ann"})).messages[0].content
    assert isinstance(content, TextContent)
    return content.text


async def prompts(client: Client) -> list[tuple[str, str | None]]:
    return [(p.name, p.description) for p in (await client.list_prompts()).prompts]


async def tool(client: Client, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, arguments)
    assert result.is_error is False, result.content
    assert result.structured_content is not None
    return result.structured_content


async def test_a_label_scoped_client_never_sees_other_versions(service: TemplateService) -> None:
    scoped = McpApp(ServiceSlot.of(service), callers=CallerDefaults(label="production"))
    log = NotificationLog()
    async with scoped.notifier.watching(), Client(scoped.server, mode="legacy", message_handler=log) as client:
        assert await prompts(client) == [("greet", "Greets someone.")]  # bye has no production label
        assert await text_of(client) == "Hello Ann!"
        with pytest.raises(MCPError) as caught:
            await client.get_prompt("bye", {"who": "Ann"})
        assert caught.value.error.code == -32602
        assert caught.value.error.data == {"reason": "label_not_found"}
        rendered = await tool(client, "render_template", {"name": "greet", "arguments": {"who": "Bo"}})
        assert (rendered["version"], rendered["text"]) == (1, "Hello Bo!")
        refused = await client.call_tool("render_template", {"name": "greet", "arguments": {"who": "Bo"}, "version": 2})
        assert refused.is_error is True
        assert (await tool(client, "get_template", {"name": "greet"}))["version"] == 1
        resource = (await client.read_resource("template://greet")).contents[0]
        assert isinstance(resource, TextResourceContents)
        assert resource.text == V1
        with pytest.raises(MCPError):
            await client.read_resource("template://greet@2")
        listed_uris = [str(r.uri) for r in (await client.list_resources()).resources]
        assert listed_uris == ["templates://index", "stats://templates", "template://greet"]
        completion = await client.complete(
            PromptReference(type="ref/prompt", name="greet"), {"name": "who", "value": ""}
        )
        assert completion.completion.values == ["Ann", "Bo", "Ann"][:2]

        listed = (await tool(client, "list_templates", {}))["templates"]
        assert [(t["name"], t["version"], t["description"]) for t in listed] == [("greet", 1, "Greets someone.")]
        found = (await tool(client, "search_templates", {"query": "greet"}))["results"]
        assert [(hit["name"], hit["version"]) for hit in found] == [("greet", 1)]

        # History and diffs show several versions: refused like any other version, with the same words.
        for name, arguments in [
            ("template_history", {"name": "greet"}),
            ("diff_template", {"name": "greet", "from_version": 1, "to_version": 2}),
            ("get_template", {"name": "greet", "version": 2}),
        ]:
            refused = await client.call_tool(name, arguments)
            assert refused.is_error is True
            assert isinstance(refused.content[0], TextContent)
            assert refused.content[0].text == (
                f"{name} failed: template 'greet' shows only its 'production' version here; this connection sees "
                "only the 'production' version of each template (its /mcp/production URL, its token or the "
                "server's --label fixes that); connect through a URL or with a token without the label to see others"
            )
        hidden = await client.call_tool("template_history", {"name": "bye"})
        assert isinstance(hidden.content[0], TextContent)
        assert hidden.content[0].text.startswith("template_history failed: template 'bye' has no label 'production'")
        index = json.loads(await resource_text(client, "templates://index"))
        assert [(t["name"], t["version"], t["description"]) for t in index["templates"]] == [
            ("greet", 1, "Greets someone.")
        ]

        moved = await tool(client, "set_label", {"name": "greet", "label": "production", "expected_version": 1})
        assert (moved["from_version"], moved["to_version"]) == (1, 2)
        await log.wait_for(PROMPTS_CHANGED, 1)  # moving the label tells the clients that see it
        assert await prompts(client) == [("greet", "Greets briefly.")]
        assert await text_of(client) == "Hi Ann!"


async def resource_text(client: Client, uri: str) -> str:
    content = (await client.read_resource(uri)).contents[0]
    assert isinstance(content, TextResourceContents)
    return content.text


async def test_fallback_latest_shows_templates_without_the_label(service: TemplateService) -> None:
    scoped = McpApp(ServiceSlot.of(service), callers=CallerDefaults(label="production", fallback_latest=True))
    async with Client(scoped.server, mode="legacy") as client:
        assert await prompts(client) == [("bye", "Says goodbye."), ("greet", "Greets someone.")]
        assert (await text_of(client, "bye"), await text_of(client)) == ("Bye Ann!", "Hello Ann!")


@pytest.mark.slow
async def test_stdio_serve_label_and_authors_in_history(home: Path) -> None:
    await labelled_store(home)
    log = NotificationLog()
    server = stdio_server(home)
    server.args.extend(["--label", "production"])  # options of serve, after it
    async with Client(server, mode="legacy", message_handler=log) as client:
        assert await text_of(client) == "Hello Ann!"
        await tool(client, "update_template", {"name": "bye", "source": OTHER.replace("Bye", "So long")})
        moved = await cli_in_thread(home, "label", "greet", "production")  # another process moves it
        assert moved.returncode == 0, moved.stderr
        await log.wait_for(PROMPTS_CHANGED, 2)
        assert await text_of(client) == "Hi Ann!"
    service = await open_service(home)
    try:
        assert [v.author for v in await service.history("bye")] == ["cli", "stdio"]
    finally:
        await service.close()


@pytest.mark.slow
async def test_http_clients_choose_a_label_by_url_and_protected_labels_need_admin(home: Path) -> None:
    await labelled_store(home)
    with http_servers(lambda: HttpServer(home, "--transport", "http")) as (server,):
        assert httpx2.post(f"{server.base}/mcp/Not%20a%20label", json={}).status_code == 404
        async with (
            Client(f"{server.base}/mcp/production", mode="legacy", cache=None) as production,
            Client(f"{server.base}/mcp", mode="legacy", cache=None) as latest,
            Client(f"{server.base}/mcp/staging", mode="legacy", cache=None) as staging,
        ):
            assert (await text_of(production), await text_of(latest)) == ("Hello Ann!", "Hi Ann!")
            assert await prompts(staging) == []

            refused = await latest.call_tool("set_label", {"name": "greet", "label": "production"})
            assert refused.is_error is True  # no token: not the admin scope
            assert isinstance(refused.content[0], TextContent)
            assert "label 'production' is protected" in refused.content[0].text
            assert "admin scope" in refused.content[0].text

            await tool(latest, "set_label", {"name": "greet", "label": "staging", "version": 1})
            assert await text_of(staging) == "Hello Ann!"
            history = await tool(latest, "template_history", {"name": "greet"})  # refused to production
    staged = [c for c in history["changes"] if c["label"] == "staging"]
    assert [c["author"] for c in staged] == ["http:mcp"]
    assert json.dumps(history["labels"], sort_keys=True) == '{"production": 1, "staging": 1}'
