"""Prompts through the SDK's own client, in-process, in both eras: list (paginated), get, completions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client, MCPError
from mcp.types import PromptReference, ResourceTemplateReference
from mcp_server_support import GREET_SOURCE, REVIEW_SOURCE, serving

from conftest import template_source
from pba_tunnel.server.app import McpApp
from pba_tunnel.server.slot import ServiceSlot
from pba_tunnel.service import TemplateService, template_write

pytestmark = pytest.mark.anyio

ERAS = {"legacy": "2025-11-25", "auto": "2026-07-28"}
INVALID_PARAMS = -32602


@pytest.fixture
async def app(service: TemplateService) -> AsyncIterator[McpApp]:
    async with serving(service) as app:
        yield app


@pytest.fixture(params=list(ERAS))
async def client(app: McpApp, request: pytest.FixtureRequest) -> AsyncIterator[Client]:
    """The SDK client in the handshake era (legacy) and in the 2026-07-28 era (auto)."""
    async with Client(app.server, mode=request.param, cache=None) as client:
        assert client.protocol_version == ERAS[request.param]
        yield client


def dump(model: Any) -> dict[str, Any]:
    """A result as it travels on the wire (camelCase, unset fields left out)."""
    return dict(model.model_dump(by_alias=True, exclude_none=True))


async def test_every_active_template_is_a_prompt_with_its_arguments_as_declared(
    client: Client, service: TemplateService
) -> None:
    await service.create(REVIEW_SOURCE)
    await service.create(GREET_SOURCE, name="greet")
    await service.create(template_source(description="Gone."), name="gone")
    await service.delete("gone")
    await service.save(service.check_partial("_partials/signature.md", "Regards"), origin="test")

    result = await client.list_prompts()

    assert [dump(prompt) for prompt in result.prompts] == [
        {
            "name": "code-review",
            "title": "Code review",
            "description": "Review code for bugs, risks and style.",
            "arguments": [
                {"name": "language", "description": "Programming language of the code", "required": True},
                {"name": "code", "description": "The code or diff to review", "required": True},
                {"name": "focus", "description": "What to look at first", "required": False},
                {"name": "audience", "description": "Who reads the review", "required": False},
                {"name": "tone", "description": "How to phrase it", "required": False},
            ],
        },
        {
            "name": "greet",
            "description": "Greets someone.",
            "arguments": [{"name": "who", "description": "Who to greet", "required": True}],
        },
    ]
    assert result.next_cursor is None


async def test_a_library_of_normal_size_is_one_page_for_clients_that_ignore_next_cursor(
    app: McpApp, service: TemplateService
) -> None:
    names = [f"t-{i:04d}" for i in range(1000)]
    parsed = [service.parse(template_source(description=f"Template {n}."), default_name=n) for n in names]
    await service.save_all([template_write(p) for p in parsed], origin="test", facts={})
    for mode in ERAS:
        async with Client(app.server, mode=mode, cache=None) as client:
            first = await client.list_prompts()
            assert (len(first.prompts), first.next_cursor) == (1000, None), mode


async def test_prompts_list_pages_at_the_page_size_and_a_page_walk_sees_each_template_once(
    service: TemplateService,
) -> None:
    names = [f"t-{i:03d}" for i in range(250)]
    for name in reversed(names):  # creation order must not matter
        await service.create(template_source(description=f"Template {name}."), name=name)
    app = McpApp(ServiceSlot.of(service), page_size=100)  # PBA_TUNNEL_PAGE_SIZE=100

    for mode in ERAS:  # one store, walked in each era
        async with Client(app.server, mode=mode, cache=None) as client:
            pages: list[list[str]] = []
            cursor: str | None = None
            while True:
                page = await client.list_prompts(cursor=cursor)
                pages.append([prompt.name for prompt in page.prompts])
                cursor = page.next_cursor
                if cursor is None:
                    break

            assert [len(page) for page in pages] == [100, 100, 50], mode
            assert [name for page in pages for name in page] == names, mode  # all of them, each once, by name


async def test_an_unusable_cursor_is_invalid_params(client: Client, service: TemplateService) -> None:
    await service.create(GREET_SOURCE, name="greet")

    with pytest.raises(MCPError) as caught:
        await client.list_prompts(cursor="not a cursor")

    assert caught.value.error.code == INVALID_PARAMS
    assert caught.value.error.message == "invalid cursor 'not a cursor': it is not a next_cursor this server gave"


async def test_prompts_get_folds_system_parts_into_the_first_user_message(
    client: Client, service: TemplateService
) -> None:
    await service.create(REVIEW_SOURCE)

    result = await client.get_prompt("code-review", {"language": "Python", "code": "x = 1", "tone": "kindly"})

    assert result.description == "Review code for bugs, risks and style."
    assert [dump(message) for message in result.messages] == [
        {
            "role": "user",
            "content": {
                "type": "text",
                "text": "You are a meticulous senior Python reviewer.\n\n"
                "Review this code for beginners, focusing on correctness (kindly):\n\nx = 1",
            },
        },
        {"role": "assistant", "content": {"type": "text", "text": "I will start with correctness."}},
    ]


async def test_system_parts_without_a_user_part_become_the_first_user_message(
    client: Client, service: TemplateService
) -> None:
    source = "---\ndescription: Terse.\n---\nsystem:\nBe brief.\n\nassistant:\nOK.\n\nsystem:\nNo jokes.\n"
    await service.create(source, name="terse")

    result = await client.get_prompt("terse", {})

    assert [dump(message) for message in result.messages] == [
        {"role": "user", "content": {"type": "text", "text": "Be brief.\n\nNo jokes."}},
        {"role": "assistant", "content": {"type": "text", "text": "OK."}},
    ]


async def test_prompts_get_renders_the_current_version(client: Client, service: TemplateService) -> None:
    await service.create(GREET_SOURCE, name="greet")
    first = await client.get_prompt("greet", {"who": "Ann"})

    await service.update("greet", GREET_SOURCE.replace("Hello", "Goodbye"))
    second = await client.get_prompt("greet", {"who": "Ann"})
    await service.rollback("greet", 1)
    third = await client.get_prompt("greet", {"who": "Ann"})

    texts = [[m.content.text for m in r.messages if m.content.type == "text"] for r in (first, second, third)]
    assert texts == [["Hello Ann!"], ["Goodbye Ann!"], ["Hello Ann!"]]


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        pytest.param(
            "nope",
            {},
            "Unknown prompt 'nope': no template named 'nope'; "
            "call prompts/list or the search_templates tool to find the names",
            id="unknown-name",
        ),
        pytest.param(
            "gone",
            {},
            "Unknown prompt 'gone': template 'gone' is deleted; the restore_template tool brings it back",
            id="deleted-template",
        ),
        pytest.param(
            "_partials/signature.md",
            {},
            "Unknown prompt '_partials/signature.md': '_partials/signature.md' is a partial: it can only be "
            "included by templates; call prompts/list or the search_templates tool to find the names",
            id="partial-is-no-prompt",
        ),
        pytest.param(
            "code-review",
            {"language": "Python"},
            'template \'code-review\' needs argument(s) code; pass them in arguments, e.g. {"code": "..."}',
            id="missing-argument",
        ),
        pytest.param(
            "code-review",
            {},
            "template 'code-review' needs argument(s) language, code; pass them in arguments, e.g. "
            '{"language": "...", "code": "..."}',
            id="all-missing-arguments-at-once",
        ),
        pytest.param(
            "code-review",
            {"language": "Python", "code": "x", "colour": "red", "size": "L"},
            "template 'code-review' has no argument(s) colour, size; it declares: language, code, focus, audience, "
            "tone",
            id="unknown-arguments",
        ),
        pytest.param(
            "code-review",
            {"language": "Python", "code": "x", "focus": "speed"},
            "argument 'focus' of 'code-review' must be one of: correctness, security, performance, style; got 'speed'",
            id="value-outside-enum",
        ),
    ],
)
async def test_prompts_get_errors_are_invalid_params_naming_the_problem(
    client: Client, service: TemplateService, name: str, arguments: dict[str, str], message: str
) -> None:
    await service.create(REVIEW_SOURCE)
    await service.create(template_source(description="Gone."), name="gone")
    await service.delete("gone")
    await service.save(service.check_partial("_partials/signature.md", "Regards"), origin="test")

    with pytest.raises(MCPError) as caught:
        await client.get_prompt(name, arguments)

    assert caught.value.error.code == INVALID_PARAMS
    assert caught.value.error.message == message


async def complete(client: Client, prompt: str, argument: str, value: str) -> list[str]:
    result = await client.complete(PromptReference(type="ref/prompt", name=prompt), {"name": argument, "value": value})
    assert result.completion.total == len(result.completion.values)
    assert result.completion.has_more is False
    return list(result.completion.values)


async def test_completion_offers_enum_values_then_the_default_then_values_used_before(
    client: Client, service: TemplateService
) -> None:
    await service.create(REVIEW_SOURCE)
    assert await complete(client, "code-review", "audience", "") == ["beginners"]
    assert await complete(client, "code-review", "language", "") == []

    for language, audience, focus in [("Python", "experts", "style"), ("Perl", "executives", "security")]:
        await client.get_prompt(
            "code-review", {"language": language, "code": "x", "audience": audience, "focus": focus}
        )

    # enum values in declared order; the default and used values are among them and not repeated
    assert await complete(client, "code-review", "focus", "") == ["correctness", "security", "performance", "style"]
    assert await complete(client, "code-review", "focus", "s") == ["security", "style"]
    assert await complete(client, "code-review", "focus", "S") == ["security", "style"]
    # the default first, then values used before, the latest first
    assert await complete(client, "code-review", "audience", "") == ["beginners", "executives", "experts"]
    assert await complete(client, "code-review", "audience", "ex") == ["executives", "experts"]
    assert await complete(client, "code-review", "audience", "exp") == ["experts"]
    assert await complete(client, "code-review", "language", "p") == ["Perl", "Python"]
    assert await complete(client, "code-review", "language", "py") == ["Python"]
    assert await complete(client, "code-review", "language", "rust") == []


async def test_completion_for_unknown_prompts_or_arguments_is_empty(client: Client, service: TemplateService) -> None:
    await service.create(REVIEW_SOURCE)

    assert await complete(client, "code-review", "colour", "") == []
    assert await complete(client, "nope", "language", "") == []


async def test_completion_of_a_template_name_in_a_resource_uri(client: Client, service: TemplateService) -> None:
    await service.create(REVIEW_SOURCE)
    await service.create(GREET_SOURCE, name="greet")
    await service.create(GREET_SOURCE.replace("Greets", "Also greets"), name="greet-twice")

    result = await client.complete(
        ResourceTemplateReference(type="ref/resource", uri="template://{name}"), {"name": "name", "value": "gr"}
    )

    assert result.completion.values == ["greet", "greet-twice"]


async def test_a_listed_prompt_shows_its_change_at_once_and_shared_arguments_stay_apart(
    client: Client, service: TemplateService
) -> None:
    await service.create(template_source(description="Greets someone."), name="hello")
    await service.create(template_source(description="Greets someone else."), name="hi")  # the same arguments
    assert [dump(p) for p in (await client.list_prompts()).prompts] == [
        {
            "name": name,
            "description": description,
            "arguments": [{"name": "who", "description": "Who to greet", "required": True}],
        }
        for name, description in (("hello", "Greets someone."), ("hi", "Greets someone else."))
    ]
    optional = "  - name: who\n    description: Who to greet\n    default: world\n"
    await service.update("hello", template_source(description="Greets anyone.", arguments=optional))
    listed = {p.name: dump(p) for p in (await client.list_prompts()).prompts}
    assert listed["hello"]["description"] == "Greets anyone."
    assert listed["hello"]["arguments"] == [{"name": "who", "description": "Who to greet", "required": False}]
    assert listed["hi"]["arguments"] == [{"name": "who", "description": "Who to greet", "required": True}]
