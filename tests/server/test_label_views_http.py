"""A token fixed to a label, through a real ``serve --transport http`` on 127.0.0.1: over MCP and on the web page it
sees only that label's version of each template (no history, no diff of other versions, no hidden template in
the index or the statistics). And the page's own checks: diff parameters and the editor's expected_version."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client, MCPError
from mcp.types import ResourceTemplateReference, TextContent, TextResourceContents
from mcp_server_support import WAIT_SECONDS, HttpServer, bearer_client, open_service

pytestmark = pytest.mark.anyio

RESOURCE_NOT_FOUND = -32002
NEWEST = 6
PRODUCTION = 5  # greet's production version: the newest (6) and the others are hidden from the labelled token
NOT_SHOWN = "template 'greet' shows only its 'production' version here"
MCP_REMEDY = (
    "this connection sees only the 'production' version of each template (its /mcp/production URL, its token or "
    "the server's --label fixes that); connect through a URL or with a token without the label to see others"
)
WEB_REMEDY = (
    "your token sees only the “production” version of each template. Sign in with a token without a label to "
    "see the others."
)


def greet(version: int) -> str:
    """greet as it reads at ``version``: its text says which."""
    return (
        f"---\ndescription: Greets, wording {version}.\narguments:\n  - name: who\n    description: Who\n---\n"
        f"user:\nHello #{version}, {{{{ who }}}}!\n"
    )


ADR = "---\ndescription: Records a decision.\n---\nuser:\nWrite an ADR.\n"


@dataclass
class Served:
    """The module's server and the secrets of its two tokens."""

    server: HttpServer
    production: str  # scope write, label production
    editor: str  # scope write, no label


async def make_store(home: Path) -> tuple[str, str]:
    """greet v1..v6 with production at v5 and staging at v6, adr without labels, renders of both, two tokens."""
    service = await open_service(home)
    try:
        await service.create(greet(1), name="greet")
        for version in range(2, NEWEST + 1):
            await service.update("greet", greet(version))
        await service.set_label("greet", "production", version=PRODUCTION, author="test", can_admin=True)
        await service.set_label("greet", "staging", author="test", can_admin=True)  # at version 6
        await service.create(ADR, name="adr")
        await service.render("greet", {"who": "Ann"}, client="test")  # at version 6
        await service.render("adr", {}, client="test")
        await service.flush_events()
        production = (await service.tokens.create("prod", "write", label="production"))[1]
        editor = (await service.tokens.create("editor", "write"))[1]
    finally:
        await service.close()
    return production, editor


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("label-views-home")
    production, editor = anyio.run(make_store, home)
    server = HttpServer(home, "--transport", "http")
    try:
        server.wait_ready()
        yield Served(server, production, editor)
    finally:
        server.stop()


async def refusal(client: Client, tool: str, arguments: dict[str, object]) -> str:
    """The text of the tool error ``tool`` answers."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error is True, result.structured_content
    assert isinstance(result.content[0], TextContent)
    return result.content[0].text


async def resource_json(client: Client, uri: str) -> dict[str, object]:
    content = (await client.read_resource(uri)).contents[0]
    assert isinstance(content, TextResourceContents)
    loaded: dict[str, object] = json.loads(content.text)
    return loaded


async def test_an_mcp_client_with_a_labelled_token_sees_no_other_version(served: Served) -> None:
    async with bearer_client(served.server.base, served.production) as client:
        for tool, arguments in [
            ("diff_template", {"name": "greet", "from_version": 3, "to_version": 4}),
            ("template_history", {"name": "greet"}),
            ("get_template", {"name": "greet", "version": 3}),  # refused before: the same words now
            ("enhance_template", {"name": "greet", "provider": "openai"}),  # it would read version 6
        ]:
            assert await refusal(client, tool, arguments) == f"{tool} failed: {NOT_SHOWN}; {MCP_REMEDY}"
        hidden = await refusal(client, "template_history", {"name": "adr"})
        assert hidden.startswith("template_history failed: template 'adr' has no label 'production'")
        with pytest.raises(MCPError) as caught:
            await client.read_resource("template://greet@3")
        assert caught.value.error.code == RESOURCE_NOT_FOUND
        assert caught.value.error.data == {"uri": "template://greet@3", "reason": "version_not_shown"}
        assert caught.value.error.message == f"Resource not found: template://greet@3: {NOT_SHOWN}; {MCP_REMEDY}"

        index = await resource_json(client, "templates://index")
        assert [(t["name"], t["version"], t["description"]) for t in index["templates"]] == [  # type: ignore[attr-defined]
            ("greet", PRODUCTION, "Greets, wording 5.")
        ]
        stats = await resource_json(client, "stats://templates")
        assert [s["name"] for s in stats["templates"]] == ["greet"]  # type: ignore[attr-defined]
        by_version = await client.call_tool("template_stats", {"by": "version"})
        assert by_version.structured_content is not None
        assert by_version.structured_content["stats"] == []  # greet was rendered at version 6 only
        by_template = await client.call_tool("template_stats", {})
        assert by_template.structured_content is not None
        assert [s["name"] for s in by_template.structured_content["stats"]] == ["greet"]
        got = await client.call_tool("get_template", {"name": "greet"})
        assert got.structured_content is not None
        assert (got.structured_content["version"], got.structured_content["labels"]) == (5, {"production": 5})
        found = await client.call_tool("search_templates", {"query": "wording"})
        assert found.structured_content is not None
        assert [(h["name"], h["version"], h["snippet"]) for h in found.structured_content["results"]] == [
            ("greet", PRODUCTION, "Greets, wording 5.")  # not the newest text's snippet
        ]
        names = await client.complete(
            ResourceTemplateReference(type="ref/resource", uri="template://{name}"), {"name": "name", "value": ""}
        )
        assert names.completion.values == ["greet"]

    async with bearer_client(
        served.server.base, served.editor
    ) as unlabelled:  # the same requests without a label answer
        diff = await unlabelled.call_tool("diff_template", {"name": "greet", "from_version": 3, "to_version": 4})
        assert diff.structured_content is not None
        assert "+Hello #4, {{ who }}!" in diff.structured_content["diff"]
        missing = await refusal(unlabelled, "get_template", {"name": "greet", "version": 99})
        assert missing == "get_template failed: template 'greet' has no version 99; its versions are 1..6"


def web_client(served: Served, secret: str) -> httpx2.Client:
    """A client of the web page signed in by ``secret`` (the bearer header, as scripts sign in)."""
    return httpx2.Client(
        base_url=served.server.base, headers={"Authorization": f"Bearer {secret}"}, timeout=WAIT_SECONDS
    )


def test_the_web_page_with_a_labelled_token_opens_no_other_version(served: Served) -> None:
    with web_client(served, served.production) as client:
        for path in ("/t/greet/history", "/t/greet/diff?from=3&to=4", "/t/greet/diff"):
            refused = client.get(path)
            assert refused.status_code == 404, path
            assert f"{NOT_SHOWN}: {WEB_REMEDY}" in refused.text.replace("&#39;", "'")
            assert "Hello #" not in refused.text
            assert "search the library" not in refused.text
        for path in ("/t/adr/history", "/t/adr", "/t/adr/usage", "/t/adr/edit"):
            hidden = client.get(path)
            assert hidden.status_code == 404, path
            assert "template &#39;adr&#39; has no label &#39;production&#39;." in hidden.text
        editor = client.get("/t/greet/edit")  # the editor follows the newest version, which it does not see
        assert editor.status_code == 404
        assert "Hello #6" not in editor.text
        shown = client.get("/t/greet")
        assert shown.status_code == 200
        assert "Greets, wording 5." in shown.text
        assert 'href="/t/greet/history"' not in shown.text
        assert re.findall(r'class="label"[^>]*>([^<]+)<', shown.text) == ["production → v5"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "from=abc&to=<script>alert(1)</script>",
            "&#39;from&#39; must be a version number from 1 to 6, not &#39;abc&#39;",
        ),
        (
            "from=2&to=<script>alert(1)</script>",
            "&#39;to&#39; must be a version number from 1 to 6, not &#39;&lt;script&gt;alert(1)&lt;/script&gt;&#39;",
        ),
        ("from=-1&to=2", "&#39;from&#39; must be a version number from 1 to 6, not &#39;-1&#39;"),
        ("from=0", "&#39;from&#39; must be a version number from 1 to 6, not &#39;0&#39;"),
        ("from=1&to=7", "&#39;to&#39; must be a version number from 1 to 6, not &#39;7&#39;"),
        (
            "to=99999999999999999999999",
            "&#39;to&#39; must be a version number from 1 to 6, not &#39;99999999999999999999999&#39;",
        ),
    ],
    ids=["not-a-number", "html", "negative", "zero", "beyond", "huge"],
)
def test_bad_diff_parameters_are_a_400_page_naming_the_parameter_and_range(
    served: Served, query: str, message: str
) -> None:
    with web_client(served, served.editor) as client:
        response = client.get(f"/t/greet/diff?{query}")
    assert response.status_code == 400
    assert message in response.text
    assert "<script>alert" not in response.text
    assert "Version 5 beside" not in response.text  # no diff was shown


def csrf_of(client: httpx2.Client, path: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


def test_an_edit_without_a_valid_expected_version_saves_nothing_and_keeps_the_text(served: Served) -> None:
    with web_client(served, served.editor) as client:
        form = client.get("/t/adr/edit").text
        assert '<input type="hidden" name="expected_version" value="1">' in form
        token = csrf_of(client, "/t/adr/edit")
        edited = ADR.replace("Write an ADR.", "Write <b>an</b> ADR & why.")
        for sent, reason in [
            ({"expected_version": "abc"}, "expected_version &#39;abc&#39; is not a version number"),
            ({}, "the form sent no expected_version"),
        ]:
            refused = client.post("/t/adr/edit", data={"csrf_token": token, "source": edited, **sent})
            assert refused.status_code == 400
            assert f"Not saved: {reason}" in refused.text
            assert "Write &lt;b&gt;an&lt;/b&gt; ADR &amp; why." in refused.text  # the text is kept in the editor
            assert '<input type="hidden" name="expected_version" value="1">' in refused.text
        accept = client.post(
            "/t/adr/enhance/accept", data={"csrf_token": token, "source": edited, "expected_version": "x"}
        )
        assert accept.status_code == 400  # accepting a proposal checks the same way
        assert "expected_version &#39;x&#39; is not a version number: run the enhancement again" in accept.text
        assert "Write an ADR." in client.get("/t/adr/edit").text  # nothing was saved
        saved = client.post("/t/adr/edit", data={"csrf_token": token, "source": edited, "expected_version": "1"})
        assert (saved.status_code, saved.headers["location"]) == (303, "/t/adr?saved=2")
        assert client.get("/t/greet/diff?from=1&to=6").status_code == 200
        missing = client.post("/t/greet/rollback", data={"csrf_token": token, "version": "99"})
        assert missing.status_code == 404
        assert "template &#39;greet&#39; has no version 99; its versions are 1..6." in missing.text
        assert "search the library" not in missing.text  # the name was right
