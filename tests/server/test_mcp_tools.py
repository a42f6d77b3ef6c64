"""Tools through the SDK's own client, in-process, in both eras: definitions, results, user errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from mcp import Client
from mcp.types import CallToolResult, TextContent
from mcp_server_support import GREET_SOURCE, REVIEW_SOURCE, SPIN_SOURCE, greet_source, open_service, serving
from pydantic import BaseModel

from conftest import template_source
from pba_tunnel.server.app import McpApp
from pba_tunnel.service import TemplateService
from pba_tunnel.store import StoredTemplate, TemplateSummary
from pba_tunnel.templates.sections import content_hash

pytestmark = pytest.mark.anyio

# (readOnlyHint, destructiveHint, idempotentHint) of every tool
HINTS = {
    "render_template": (True, False, True),
    "search_templates": (True, False, True),
    "list_templates": (True, False, True),
    "get_template": (True, False, True),
    "create_template": (False, False, False),
    "update_template": (False, False, False),
    "delete_template": (False, True, True),
    "restore_template": (False, False, True),
    "template_history": (True, False, True),
    "rollback_template": (False, False, False),
    "set_label": (False, False, True),
    "remove_label": (False, True, True),
    "template_stats": (True, False, True),
    "diff_template": (True, False, True),
    "enhance_template": (False, False, False),  # save=true writes a version; its own tests cover its results
}


@pytest.fixture
async def service(home: Path) -> AsyncIterator[TemplateService]:
    """A store with small limits, so each limit can be hit cheaply."""
    opened = await open_service(
        home,
        PBA_TUNNEL_MAX_RENDER_SECONDS="0.2",
        PBA_TUNNEL_MAX_ARGUMENT_BYTES="100",
        PBA_TUNNEL_MAX_SOURCE_BYTES="2000",
    )
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def app(service: TemplateService) -> AsyncIterator[McpApp]:
    async with serving(service) as app:
        yield app


@pytest.fixture(params=["legacy", "auto"])
async def client(app: McpApp, request: pytest.FixtureRequest) -> AsyncIterator[Client]:
    async with Client(app.server, mode=request.param, cache=None) as client:
        yield client


def text_of(result: CallToolResult) -> str:
    assert len(result.content) == 1
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def test_every_tool_has_a_description_schemas_and_fitting_annotations(client: Client) -> None:
    tools = (await client.list_tools()).tools

    assert [tool.name for tool in tools] == list(HINTS)
    for tool in tools:
        assert tool.description is not None
        assert len(tool.description) > 20, tool.name
        assert tool.title
        assert tool.input_schema["type"] == "object"
        assert tool.input_schema["additionalProperties"] is False  # typos are errors, not ignored
        assert tool.output_schema is not None
        assert tool.output_schema["type"] == "object"
        jsonschema.Draft202012Validator.check_schema(tool.input_schema)
        jsonschema.Draft202012Validator.check_schema(tool.output_schema)
        annotations = tool.annotations
        assert annotations is not None
        hints = (annotations.read_only_hint, annotations.destructive_hint, annotations.idempotent_hint)
        assert hints == HINTS[tool.name], tool.name
        assert annotations.open_world_hint is False
        assert annotations.title == tool.title


async def test_each_tool_returns_structured_content_matching_its_output_schema(
    client: Client, service: TemplateService
) -> None:
    await service.create(SPIN_SOURCE, name="spin")  # in the store, never rendered here
    schemas = {tool.name: tool.output_schema for tool in (await client.list_tools()).tools}
    used: set[str] = set()

    async def call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = await client.call_tool(name, arguments)
        assert result.is_error is False, text_of(result)
        structured = result.structured_content
        assert structured is not None
        jsonschema.validate(structured, schemas[name], cls=jsonschema.Draft202012Validator)
        if name == "render_template":
            assert text_of(result) == structured["text"]
        else:
            assert json.loads(text_of(result)) == structured
        used.add(name)
        return structured

    assert await call("create_template", {"source": REVIEW_SOURCE}) == {
        "name": "code-review",
        "version": 1,
        "created": True,
        "changed": True,
        "restored": False,
    }
    assert await call("create_template", {"source": GREET_SOURCE, "name": "greet", "message": "first"}) == {
        "name": "greet",
        "version": 1,
        "created": True,
        "changed": True,
        "restored": False,
    }
    hi = greet_source("Hi")
    update = {"name": "greet", "source": hi, "expected_version": 1, "message": "shorter"}
    assert await call("update_template", update) == {
        "name": "greet",
        "version": 2,
        "created": False,
        "changed": True,
        "restored": False,
    }
    same = {"name": "greet", "source": hi}
    assert await call("update_template", same) == {
        "name": "greet",
        "version": 2,
        "created": False,
        "changed": False,
        "restored": False,
    }

    assert await call("render_template", {"name": "code-review", "arguments": {"language": "Go", "code": "x"}}) == {
        "name": "code-review",
        "version": 1,
        "messages": [
            {"role": "system", "content": "You are a meticulous senior Go reviewer."},
            {"role": "user", "content": "Review this code for beginners, focusing on correctness:\n\nx"},
            {"role": "assistant", "content": "I will start with correctness."},
        ],
        "text": "You are a meticulous senior Go reviewer.\n\n"
        "Review this code for beginners, focusing on correctness:\n\nx\n\nI will start with correctness.",
    }
    assert await call("render_template", {"name": "greet", "arguments": {"who": "Ann"}, "version": 1}) == {
        "name": "greet",
        "version": 1,
        "messages": [{"role": "user", "content": "Hello Ann!"}],
        "text": "Hello Ann!",
    }

    def shown(item: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
        """``item`` without what only says when or what kind (checked here), to compare the rest whole."""
        assert set(item) == set(model.model_fields)
        assert (item["kind"], item["deleted"], item["internal"]) == ("prompt", False, False)
        for key in ("created_at", "updated_at"):
            if key in item:
                datetime.fromisoformat(item[key])  # a time, as ISO 8601
        skipped = {"kind", "deleted", "created_at", "updated_at", "arguments"} if model is TemplateSummary else set()
        said = {"kind", "deleted", "internal", "created_at", "updated_at"}
        return {k: v for k, v in item.items() if k not in said | skipped}

    greet_detail = {
        "name": "greet",
        "title": None,
        "description": "Greets someone.",
        "category": None,
        "tags": [],
        "current_version": 2,
        "arguments": [
            {"name": "who", "description": "Who to greet", "required": None, "default": None, "enum": None}
            | {"type": "string"}
        ],
        "origin": "mcp",
        "author": "stdio",  # the in-process app is configured as stdio serves
        "labels": {},
    }
    assert shown(await call("get_template", {"name": "greet"}), StoredTemplate) == greet_detail | {
        "version": 2,
        "source": hi,
        "content_hash": content_hash(hi, None),
        "message": "shorter",
    }
    assert shown(await call("get_template", {"name": "greet", "version": 1}), StoredTemplate) == greet_detail | {
        "version": 1,
        "source": GREET_SOURCE,
        "content_hash": content_hash(GREET_SOURCE, None),
        "message": "first",
    }

    summaries = {
        "code-review": {
            "name": "code-review",
            "title": "Code review",
            "description": "Review code for bugs, risks and style.",
            "category": None,
            "tags": ["review", "quality"],
            "version": 1,
        },
        "greet": {
            "name": "greet",
            "title": None,
            "description": "Greets someone.",
            "category": None,
            "tags": [],
            "version": 2,
        },
    }
    spin = {
        "name": "spin",
        "title": None,
        "description": "Spins until the render time limit stops it.",
        "category": None,
        "tags": [],
        "version": 1,
    }
    listed = await call("list_templates", {})
    assert listed["next_cursor"] is None
    assert [shown(t, TemplateSummary) for t in listed["templates"]] == [
        summaries["code-review"],
        summaries["greet"],
        spin,
    ]
    first_page = await call("list_templates", {"limit": 2})
    assert [shown(t, TemplateSummary) for t in first_page["templates"]] == [
        summaries["code-review"],
        summaries["greet"],
    ]
    last_page = await call("list_templates", {"cursor": first_page["next_cursor"]})
    assert ([shown(t, TemplateSummary) for t in last_page["templates"]], last_page["next_cursor"]) == ([spin], None)

    found = await call("search_templates", {"query": "review"})
    assert [hit["name"] for hit in found["results"]] == ["code-review"]
    hit = found["results"][0]
    assert {k: hit[k] for k in summaries["code-review"]} == summaries["code-review"]
    assert "name" in hit["matched"]
    assert hit["score"] > 0

    history = await call("template_history", {"name": "greet"})
    assert history["name"] == "greet"
    assert [{k: v for k, v in version.items() if k != "created_at"} for version in history["versions"]] == [
        {
            "version": 1,
            "content_hash": content_hash(GREET_SOURCE, None),
            "message": "first",
            "origin": "mcp",
            "author": "stdio",
            "current": False,
            "labels": [],
        },
        {
            "version": 2,
            "content_hash": content_hash(hi, None),
            "message": "shorter",
            "origin": "mcp",
            "author": "stdio",
            "current": True,
            "labels": [],
        },
    ]

    assert await call("diff_template", {"name": "greet", "from_version": 1, "to_version": 2}) == {
        "name": "greet",
        "from_version": 1,
        "to_version": 2,
        "diff": "--- greet@1\n+++ greet@2\n@@ -4,4 +4,4 @@\n"
        "   - name: who\n     description: Who to greet\n ---\n-Hello {{ who }}!\n+Hi {{ who }}!\n",
    }
    assert await call("rollback_template", {"name": "greet", "version": 1}) == {
        "name": "greet",
        "version": 3,
        "created": False,
        "changed": True,
        "restored": False,
    }
    assert await call("delete_template", {"name": "greet"}) == {"name": "greet", "deleted": True, "changed": True}
    assert await call("delete_template", {"name": "greet"}) == {"name": "greet", "deleted": True, "changed": False}
    assert await call("restore_template", {"name": "greet"}) == {"name": "greet", "deleted": False, "changed": True}
    assert await call("render_template", {"name": "greet", "arguments": {"who": "Bo"}}) == {
        "name": "greet",
        "version": 3,
        "messages": [{"role": "user", "content": "Hello Bo!"}],
        "text": "Hello Bo!",
    }

    moved = {"name": "greet", "label": "staging", "from_version": None, "to_version": 2, "changed": True}
    assert await call("set_label", {"name": "greet", "label": "staging", "version": 2}) == moved
    assert await call("remove_label", {"name": "greet", "label": "staging"}) == moved | {
        "from_version": 2,
        "to_version": None,
    }
    stats = await call("template_stats", {"name": "greet", "by": "version"})
    assert [(row["group"], row["renders"]) for row in stats["stats"]] == [("1", 1), ("3", 1)]
    assert stats["unused"] == []

    assert used == set(HINTS) - {"enhance_template"}  # that one needs a model (sampling or a provider)


TOO_LARGE = template_source(description="Big.", body="x" * 2100)


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        pytest.param(
            "render_template",
            {"name": "nope"},
            "render_template failed: no template named 'nope'; "
            "call prompts/list or the search_templates tool to find the names",
            id="unknown-template",
        ),
        pytest.param(
            "render_template",
            {"name": "greet"},
            "render_template failed: template 'greet' needs argument(s) who; "
            'pass them in arguments, e.g. {"who": "..."}',
            id="missing-argument",
        ),
        pytest.param(
            "render_template",
            {"name": "greet", "arguments": {"who": "Ann", "whom": "Bo"}},
            "render_template failed: template 'greet' has no argument(s) whom; it declares: who",
            id="unknown-argument",
        ),
        pytest.param(
            "render_template",
            {"name": "greet", "arguments": "who=Ann"},
            "invalid arguments for render_template: arguments: Input should be a valid dictionary",
            id="arguments-not-an-object",
        ),
        pytest.param(
            "render_template",
            {"name": "greet", "arguments": {"who": "x" * 101}},
            "render_template failed: argument 'who' of 'greet' is 101 bytes; the limit is 100 "
            "(PBA_TUNNEL_MAX_ARGUMENT_BYTES)",
            id="argument-too-large",
        ),
        pytest.param(
            "render_template",
            {"name": "spin"},
            "render_template failed: rendering took longer than 0.2 s (set PBA_TUNNEL_MAX_RENDER_SECONDS to allow "
            "more)",
            id="render-timeout",
        ),
        pytest.param(
            "render_template",
            {"name": "greet", "arguments": {"who": "Ann"}, "version": 9},
            "render_template failed: template 'greet' has no version 9; its versions are 1..2",
            id="unknown-version",
        ),
        pytest.param(
            "create_template",
            {"source": "Hello {{ who }}!"},
            "create_template failed: 1: front matter: a template starts with a line '---', then YAML front matter, "
            "then a closing '---' line",
            id="invalid-template",
        ),
        pytest.param(
            "create_template",
            {"source": template_source(body="Hello {{ who }} and {{ whom }}!"), "name": "pair"},
            "create_template failed: 7: arguments: variable(s) whom used in the body but not declared: add them "
            "under 'arguments'",
            id="undeclared-variable",
        ),
        pytest.param(
            "create_template",
            {"source": TOO_LARGE, "name": "big"},
            f"create_template failed: template source is {len(TOO_LARGE):,} bytes; the limit is 2,000 "
            "(PBA_TUNNEL_MAX_SOURCE_BYTES)",
            id="source-too-large",
        ),
        pytest.param(
            "create_template",
            {"source": GREET_SOURCE, "name": "greet"},
            "create_template failed: a template named 'greet' already exists: update it instead, or pick another name",
            id="name-taken",
        ),
        pytest.param(
            "update_template",
            {"name": "greet", "source": greet_source("Hey"), "expected_version": 1},
            "update_template failed: template 'greet' is at version 2, not 1: someone changed it meanwhile; get the "
            "current version and apply your change again",
            id="stale-expected-version",
        ),
        pytest.param(
            "update_template",
            {"name": "greet", "source": "---\nname: other\n" + GREET_SOURCE.removeprefix("---\n")},
            "update_template failed: name: the source is named 'other' but you are updating 'greet': renaming is "
            "not supported; create a new template instead",
            id="rename-by-update",
        ),
        pytest.param(
            "update_template",
            {"name": "nope", "source": GREET_SOURCE},
            "update_template failed: no template named 'nope'; "
            "call prompts/list or the search_templates tool to find the names",
            id="update-unknown",
        ),
        pytest.param(
            "search_templates",
            {"query": ""},
            "invalid arguments for search_templates: query: String should have at least 1 character",
            id="empty-query",
        ),
        pytest.param(
            "search_templates",
            {"query": "greet", "limit": 1000},
            "invalid arguments for search_templates: limit: Input should be less than or equal to 100",
            id="limit-too-high",
        ),
        pytest.param(
            "get_template",
            {"name": "greet", "verison": 1},
            "invalid arguments for get_template: verison: unknown argument",
            id="misspelt-argument",
        ),
        pytest.param(
            "get_template",
            {},
            "invalid arguments for get_template: name: Field required",
            id="missing-tool-argument",
        ),
        pytest.param(
            "delete_template",
            {"name": "nope"},
            "delete_template failed: no template named 'nope'; "
            "call prompts/list or the search_templates tool to find the names",
            id="delete-unknown",
        ),
        pytest.param(
            "rollback_template",
            {"name": "greet", "version": 5},
            "rollback_template failed: template 'greet' has no version 5; its versions are 1..2",
            id="rollback-unknown-version",
        ),
        pytest.param(
            "diff_template",
            {"name": "greet", "from_version": 1, "to_version": 7},
            "diff_template failed: template 'greet' has no version 7; its versions are 1..2",
            id="diff-unknown-version",
        ),
        pytest.param(
            "template_history",
            {"name": "nope"},
            "template_history failed: no template named 'nope'; "
            "call prompts/list or the search_templates tool to find the names",
            id="history-unknown",
        ),
        pytest.param(
            "enhance_everything",
            {},
            "unknown tool 'enhance_everything'; the tools are: {tools}",
            id="unknown-tool",
        ),
    ],
)
async def test_user_errors_are_tool_errors_that_say_how_to_fix_them(
    client: Client, service: TemplateService, tool: str, arguments: dict[str, Any], message: str
) -> None:
    await service.create(GREET_SOURCE, name="greet")
    await service.update("greet", greet_source("Hi"))
    await service.create(SPIN_SOURCE, name="spin")

    result = await client.call_tool(tool, arguments)

    # the list of tools an error offers is the list tools/list shows
    message = message.replace("{tools}", ", ".join(t.name for t in (await client.list_tools()).tools))
    assert result.is_error is True
    assert text_of(result) == message
    assert "Error executing tool" not in message
    assert result.structured_content is None
