"""Resources through the SDK's own client, in-process, in both eras: template sources and the index."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client, MCPError
from mcp.types import TextResourceContents
from mcp_server_support import GREET_SOURCE, REVIEW_SOURCE, greet_source, serving

from pba_tunnel.server.app import McpApp
from pba_tunnel.service import TemplateService

pytestmark = pytest.mark.anyio

RESOURCE_NOT_FOUND = -32002


@pytest.fixture
async def app(service: TemplateService) -> AsyncIterator[McpApp]:
    await service.create(REVIEW_SOURCE)
    await service.create(GREET_SOURCE, name="greet")
    await service.update("greet", greet_source("Hi", "Greets someone briefly."))
    async with serving(service) as app:
        yield app


@pytest.fixture(params=["legacy", "auto"])
async def client(app: McpApp, request: pytest.FixtureRequest) -> AsyncIterator[Client]:
    async with Client(app.server, mode=request.param, cache=None) as client:
        yield client


def dump(model: Any) -> dict[str, Any]:
    return dict(model.model_dump(by_alias=True, exclude_none=True))


async def read_text(client: Client, uri: str) -> tuple[str | None, str]:
    """(mimeType, text) of a resource that has exactly one text content."""
    result = await client.read_resource(uri)
    assert len(result.contents) == 1
    content = result.contents[0]
    assert isinstance(content, TextResourceContents)
    assert str(content.uri) == uri
    return content.mime_type, content.text


async def test_resources_list_shows_the_index_and_every_template(client: Client) -> None:
    result = await client.list_resources()

    assert [dump(resource) for resource in result.resources] == [
        {
            "uri": "templates://index",
            "name": "template-index",
            "title": "Template index",
            "mimeType": "application/json",
            "description": "Every template: name, title, description, category, tags, arguments and version",
        },
        {
            "uri": "stats://templates",
            "name": "template-stats",
            "title": "Template usage",
            "mimeType": "application/json",
            "description": "Renders, errors, last use and render times of each template over 30 days",
        },
        {
            "uri": "template://code-review",
            "name": "code-review",
            "title": "Code review",
            "description": "Review code for bugs, risks and style.",
            "mimeType": "text/markdown",
        },
        {
            "uri": "template://greet",
            "name": "greet",
            "title": "greet",
            "description": "Greets someone briefly.",
            "mimeType": "text/markdown",
        },
    ]
    assert result.next_cursor is None


async def test_resource_templates_offer_the_current_and_a_given_version(client: Client) -> None:
    result = await client.list_resource_templates()

    assert [dump(template) for template in result.resource_templates] == [
        {
            "uriTemplate": "template://{name}",
            "name": "template-source",
            "mimeType": "text/markdown",
            "description": "The current source of a template (front matter and body)",
        },
        {
            "uriTemplate": "template://{name}@{version}",
            "name": "template-version-source",
            "mimeType": "text/markdown",
            "description": "The source of one version of a template: a version number, or a label such as "
            "production (the version it points at)",
        },
    ]


async def test_a_template_resource_is_its_current_markdown_source(client: Client, service: TemplateService) -> None:
    assert await read_text(client, "template://greet") == (
        "text/markdown",
        greet_source("Hi", "Greets someone briefly."),
    )
    assert await read_text(client, "template://code-review") == ("text/markdown", REVIEW_SOURCE)

    await service.update("greet", greet_source("Howdy"))

    assert await read_text(client, "template://greet") == ("text/markdown", greet_source("Howdy"))


async def test_a_versioned_template_resource_is_that_versions_source(client: Client) -> None:
    assert await read_text(client, "template://greet@1") == ("text/markdown", GREET_SOURCE)
    assert await read_text(client, "template://greet@2") == (
        "text/markdown",
        greet_source("Hi", "Greets someone briefly."),
    )


async def test_the_index_is_json_describing_every_template(client: Client) -> None:
    mime_type, text = await read_text(client, "templates://index")

    assert mime_type == "application/json"
    index = json.loads(text)
    assert list(index) == ["templates"]
    for entry in index["templates"]:
        assert entry.pop("updated_at")  # a timestamp: present, value not predictable
        assert entry.pop("internal") is False  # internal templates are not in the index
    assert index["templates"] == [
        {
            "name": "code-review",
            "title": "Code review",
            "description": "Review code for bugs, risks and style.",
            "category": None,
            "tags": ["review", "quality"],
            "arguments": [
                {
                    "name": "language",
                    "description": "Programming language of the code",
                    "required": True,
                    "default": None,
                    "enum": None,
                    "type": "string",
                },
                {
                    "name": "code",
                    "description": "The code or diff to review",
                    "required": None,
                    "default": None,
                    "enum": None,
                    "type": "string",
                },
                {
                    "name": "focus",
                    "description": "What to look at first",
                    "required": None,
                    "default": "correctness",
                    "enum": ["correctness", "security", "performance", "style"],
                    "type": "string",
                },
                {
                    "name": "audience",
                    "description": "Who reads the review",
                    "required": None,
                    "default": "beginners",
                    "enum": None,
                    "type": "string",
                },
                {
                    "name": "tone",
                    "description": "How to phrase it",
                    "required": False,
                    "default": None,
                    "enum": None,
                    "type": "string",
                },
            ],
            "version": 1,
        },
        {
            "name": "greet",
            "title": None,
            "description": "Greets someone briefly.",
            "category": None,
            "tags": [],
            "arguments": [
                {
                    "name": "who",
                    "description": "Who to greet",
                    "required": None,
                    "default": None,
                    "enum": None,
                    "type": "string",
                }
            ],
            "version": 2,
        },
    ]


@pytest.mark.parametrize(
    ("uri", "message", "reason"),
    [
        pytest.param(
            "template://nope",
            "Resource not found: template://nope: no template named 'nope'; call resources/list to find the URIs",
            "not_found",
            id="unknown-template",
        ),
        pytest.param(
            "template://greet@9",
            "Resource not found: template://greet@9: template 'greet' has no version 9; its versions are 1..2",
            "version_not_found",
            id="unknown-version",
        ),
        pytest.param(
            "template://greet@Latest!",
            "Resource not found: template://greet@Latest! ('Latest!' is neither a version number nor a label; "
            "use template://NAME@VERSION or @LABEL)",
            None,
            id="version-not-a-number",
        ),
        pytest.param(
            "template://greet@production",
            "Resource not found: template://greet@production: template 'greet' has no label 'production'; "
            "call resources/list to find the URIs",
            "label_not_found",
            id="unknown-label",
        ),
        pytest.param(
            "prompts://greet",
            "Resource not found: prompts://greet (use templates://index, stats://templates or "
            "template://NAME[@VERSION|@LABEL])",
            None,
            id="unknown-scheme",
        ),
    ],
)
async def test_unknown_resources_are_resource_not_found_errors(
    client: Client, uri: str, message: str, reason: str | None
) -> None:
    with pytest.raises(MCPError) as caught:
        await client.read_resource(uri)

    assert caught.value.error.code == RESOURCE_NOT_FOUND
    assert caught.value.error.message == message
    assert caught.value.error.data == ({"uri": uri} if reason is None else {"uri": uri, "reason": reason})
