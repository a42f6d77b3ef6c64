"""A label view shows every field of the version it shows, through a real ``serve --transport http``: the newest,
hidden version's title, description, category, tags, arguments, words and number never reach a client of
``/mcp/prod`` or the web library with ``?label=prod``, nor do filters or searches find a template by them."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.types import TextResourceContents
from mcp_server_support import WAIT_SECONDS, HttpServer, http_servers, open_service

pytestmark = pytest.mark.anyio

SHOWN = """---
title: Alpha review
description: Greets alpha reviewers.
category: alpha
tags: [alphatag]
arguments:
  - name: who
    description: Who to greet
---
user:
Hello {{ who }}, greets from alpha.
"""
HIDDEN = """---
title: SECRET title
description: SECRET description greets.
category: secretcat
tags: [secrettag]
arguments:
  - name: secretarg
    description: SECRET argument
---
user:
Hello {{ secretarg }}, greets zebrasecret.
"""
LEAKS = ("SECRET", "secretcat", "secrettag", "zebrasecret", "secretarg")
FIELDS = {
    "name": "alpha",
    "title": "Alpha review",
    "description": "Greets alpha reviewers.",
    "category": "alpha",
    "tags": ["alphatag"],
    "version": 1,
}


async def make_store(home: Path) -> datetime:
    """alpha v1 (labelled prod) and v2 (newest, unlabelled, all SECRET); the time v1 was written."""
    service = await open_service(home)
    try:
        await service.create(SHOWN, name="alpha")
        await service.update("alpha", HIDDEN)
        await service.set_label("alpha", "prod", version=1, author="test", can_admin=True)
        return (await service.history("alpha"))[0].created_at
    finally:
        await service.close()


def same_time(text: str, expected: datetime) -> bool:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None) == expected.replace(tzinfo=None)


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert result.is_error is False, result.content
    assert result.structured_content is not None
    shown = {k: v for k, v in result.structured_content.items() if k != "query"}  # a search repeats its query
    assert not any(word in json.dumps(shown) for word in LEAKS), (tool, arguments)
    return result.structured_content


def summary(item: dict[str, Any]) -> dict[str, Any]:
    """The fields a view decides, with argument names."""
    return {**{k: item[k] for k in FIELDS}, "arguments": [a["name"] for a in item.get("arguments", [{"name": "who"}])]}


async def test_a_label_view_shows_no_field_word_or_number_of_a_newer_hidden_version(home: Path) -> None:
    v1_written = await make_store(home)
    expected = {**FIELDS, "arguments": ["who"]}
    with http_servers(lambda: HttpServer(home, "--transport", "http")) as (server,):
        async with Client(f"{server.base}/mcp", mode="legacy", cache=None) as everything:
            # Without a label the newest version answers: the words below do find the template.
            found = await everything.call_tool("search_templates", {"query": "zebrasecret"})
            assert found.structured_content is not None
            assert [h["name"] for h in found.structured_content["results"]] == ["alpha"]

        async with Client(f"{server.base}/mcp/prod", mode="legacy", cache=None) as client:
            got = await call(client, "get_template", {"name": "alpha"})
            assert summary(got) == expected
            assert (got["current_version"], got["labels"], got["source"]) == (1, {"prod": 1}, SHOWN)
            assert same_time(got["updated_at"], v1_written)

            content = (await client.read_resource("templates://index")).contents[0]
            assert isinstance(content, TextResourceContents)
            assert not any(word in content.text for word in LEAKS)
            [entry] = json.loads(content.text)["templates"]
            assert summary(entry) == expected
            assert same_time(entry["updated_at"], v1_written)

            [listed] = (await call(client, "list_templates", {}))["templates"]
            assert summary(listed) == expected
            assert same_time(listed["updated_at"], v1_written)
            assert (await call(client, "list_templates", {"category": "alpha"}))["templates"] == [listed]
            assert (await call(client, "list_templates", {"tag": "secrettag"}))["templates"] == []
            assert (await call(client, "list_templates", {"category": "secretcat"}))["templates"] == []

            [hit] = (await call(client, "search_templates", {"query": "greets"}))["results"]
            assert {k: hit[k] for k in FIELDS} == FIELDS
            assert (hit["snippet"], hit["matched"]) == ("Greets alpha reviewers.", [])
            for query in ("zebrasecret", "tag:secrettag", "category:secretcat", "greets zebrasecret", "greets -alpha"):
                assert (await call(client, "search_templates", {"query": query}))["results"] == [], query
            filtered = await call(client, "search_templates", {"query": "greets", "tags": ["secrettag"]})
            assert filtered["results"] == []

        with httpx2.Client(base_url=server.base, timeout=WAIT_SECONDS) as web:
            page = web.get("/?label=prod")
            assert page.status_code == 200
            assert "Alpha review" in page.text
            assert "alphatag" in page.text
            for asked in ("", "&tag=secrettag", "&category=secretcat", "&q=zebrasecret", "&q=greets"):
                answer = web.get(f"/?label=prod{asked}")
                assert answer.status_code == 200, asked
                echoed = asked.partition("=")[2]  # the filter fields repeat what was asked
                assert not any(word in answer.text.replace(echoed, "") for word in LEAKS), asked
            for path in ("/?label=prod&tag=secrettag", "/?label=prod&category=secretcat", "/?label=prod&q=zebrasecret"):
                assert "<code>alpha</code>" not in web.get(path).text, path
            assert "<code>alpha</code>" in web.get("/?label=prod&q=greets").text
