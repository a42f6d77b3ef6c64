"""``notifications/prompts/list_changed``: every client hears of every change, whoever made it.

Handshake-era clients (``mode="legacy"``) get the notifications on their session; 2026-07-28 clients
(the default mode) get change events on a ``subscriptions/listen`` stream (``Client.listen``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from mcp import Client
from mcp.types import TextContent
from mcp_server_support import (
    GREET_SOURCE,
    PROMPTS_CHANGED,
    RESOURCES_CHANGED,
    NotificationLog,
    cli_in_thread,
    greet_source,
    next_changes,
    open_service,
    prepare_store,
    serving,
    stdio_server,
    template_file,
)

from pba_tunnel.server.app import McpApp

pytestmark = pytest.mark.anyio

CHANGED = {"PromptsListChanged", "ResourcesListChanged"}
FRESH_V1 = greet_source("Welcome", "Welcomes someone.")
FRESH_V2 = greet_source("Welcome back", "Welcomes someone back.")


@pytest.fixture
async def app(home: Path) -> AsyncIterator[McpApp]:
    """A server over a store that already holds ``greet`` when it opens (as a real server starts)."""
    await prepare_store(home, {"greet": GREET_SOURCE})
    service = await open_service(home)
    try:
        async with serving(service) as app:
            yield app
    finally:
        await service.close()


async def greeting(client: Client) -> str:
    content = (await client.get_prompt("greet", {"who": "Ann"})).messages[0].content
    assert isinstance(content, TextContent)
    return content.text


async def prompt_list(client: Client) -> list[tuple[str, str | None]]:
    return [(prompt.name, prompt.description) for prompt in (await client.list_prompts()).prompts]


# What the prompt list is after each change: created, updated, deleted, restored.
AFTER = [
    [("fresh", "Welcomes someone."), ("greet", "Greets someone.")],
    [("fresh", "Welcomes someone back."), ("greet", "Greets someone.")],
    [("greet", "Greets someone.")],
    [("fresh", "Welcomes someone back."), ("greet", "Greets someone.")],
]


@pytest.mark.parametrize("writer", ["legacy-connection", "modern-connection", "cli"])
async def test_every_client_hears_of_creates_updates_deletes_and_restores(app: McpApp, home: Path, writer: str) -> None:
    """Two handshake-era clients and one 2026-07-28 client watch; one of them (or the CLI) writes."""
    first_log, second_log = NotificationLog(), NotificationLog()
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(
            Client(app.server, mode="legacy", cache=None, message_handler=first_log)
        )
        second = await stack.enter_async_context(
            Client(app.server, mode="legacy", cache=None, message_handler=second_log)
        )
        modern = await stack.enter_async_context(Client(app.server, cache=None))
        subscription = await stack.enter_async_context(
            modern.listen(prompts_list_changed=True, resources_list_changed=True)
        )
        assert (first.protocol_version, modern.protocol_version) == ("2025-11-25", "2026-07-28")
        for client in (first, second, modern):
            prompts = client.server_capabilities.prompts
            assert prompts is not None
            assert prompts.list_changed is True
        writing_client = first if writer == "legacy-connection" else modern

        async def change(step: int) -> None:
            if writer == "cli":
                outputs = [
                    ("import", "added 1, updated 0, unchanged 0, failed 0\n"),
                    ("import", "added 0, updated 1, unchanged 0, failed 0\n"),
                    ("delete", "deleted fresh\n"),
                    ("restore", "restored fresh\n"),
                ]
                command, expected = outputs[step]
                if command == "import":
                    args = [str(template_file(home, "fresh", [FRESH_V1, FRESH_V2][step]))]
                else:
                    args = ["fresh"]
                result = await cli_in_thread(home, command, *args)
                assert (result.returncode, result.stdout) == (0, expected), result.stderr
                return
            calls = [
                ("create_template", {"source": FRESH_V1, "name": "fresh"}),
                ("update_template", {"name": "fresh", "source": FRESH_V2, "expected_version": 1}),
                ("delete_template", {"name": "fresh"}),
                ("restore_template", {"name": "fresh"}),
            ]
            result = await writing_client.call_tool(*calls[step])
            assert result.is_error is False, result.content

        for step, expected in enumerate(AFTER):
            await change(step)
            for log in (first_log, second_log):
                await log.wait_for(PROMPTS_CHANGED, step + 1)
                await log.wait_for(RESOURCES_CHANGED, step + 1)
            assert await next_changes(subscription) == CHANGED
            for client in (first, second, modern):
                assert await prompt_list(client) == expected

        await first.list_tools()  # anything in flight has arrived once this answers
        await second.list_tools()
        assert first_log.methods == second_log.methods == [PROMPTS_CHANGED, RESOURCES_CHANGED] * 4


async def test_reads_and_failed_writes_notify_nobody(app: McpApp) -> None:
    log = NotificationLog()
    async with Client(app.server, mode="legacy", cache=None, message_handler=log) as client:
        await client.get_prompt("greet", {"who": "Ann"})
        await client.call_tool("render_template", {"name": "greet", "arguments": {"who": "Ann"}})
        failed = await client.call_tool("update_template", {"name": "greet", "source": "no front matter"})
        assert failed.is_error is True
        unchanged = await client.call_tool("update_template", {"name": "greet", "source": GREET_SOURCE})
        assert unchanged.structured_content == {
            "name": "greet",
            "version": 1,
            "created": False,
            "changed": False,
            "restored": False,
        }
        # a change after all that is the first thing this client hears
        await client.call_tool("delete_template", {"name": "greet"})
        await log.wait_for(PROMPTS_CHANGED, 1)
        await client.list_tools()

    assert log.methods == [PROMPTS_CHANGED, RESOURCES_CHANGED]


async def test_stdio_servers_in_other_processes_tell_their_clients_about_each_others_writes(home: Path) -> None:
    """Two ``serve`` processes on one store: a legacy client on one, a 2026-07-28 client on the other."""
    await prepare_store(home, {"greet": GREET_SOURCE})
    log = NotificationLog()
    async with (
        Client(stdio_server(home), mode="legacy", cache=None, message_handler=log) as legacy,
        Client(stdio_server(home), cache=None) as modern,
        modern.listen(prompts_list_changed=True, resources_list_changed=True) as subscription,
    ):
        assert (legacy.protocol_version, modern.protocol_version) == ("2025-11-25", "2026-07-28")
        # What each client knows first (a stdio server opens its store once it has answered the handshake:
        # a change before that is simply part of what the client then lists, and needs no notification).
        assert await prompt_list(legacy) == await prompt_list(modern) == [("greet", "Greets someone.")]

        created = await legacy.call_tool("create_template", {"source": FRESH_V1, "name": "fresh"})
        assert created.is_error is False
        await log.wait_for(PROMPTS_CHANGED, 1)  # its own server, at once
        assert await next_changes(subscription) == CHANGED  # the other server, from the store
        assert await prompt_list(modern) == AFTER[0]

        updated = await modern.call_tool("update_template", {"name": "fresh", "source": FRESH_V2})
        assert updated.is_error is False
        assert await next_changes(subscription) == CHANGED
        await log.wait_for(PROMPTS_CHANGED, 2)
        assert await prompt_list(legacy) == AFTER[1]

        # the 2026-07-28 path renders from its server's cache too: a write by the other process is seen at once
        assert await greeting(modern) == "Hello Ann!"
        assert await greeting(modern) == "Hello Ann!"
        changed = await legacy.call_tool("update_template", {"name": "greet", "source": greet_source("Hey")})
        assert changed.is_error is False
        assert await greeting(modern) == "Hey Ann!"
        await log.wait_for(PROMPTS_CHANGED, 3)
        assert await next_changes(subscription) == CHANGED

        result = await cli_in_thread(home, "delete", "fresh")
        assert (result.returncode, result.stdout) == (0, "deleted fresh\n"), result.stderr
        await log.wait_for(PROMPTS_CHANGED, 4)
        assert await next_changes(subscription) == CHANGED
        assert await prompt_list(legacy) == await prompt_list(modern) == [("greet", "Greets someone.")]
        await log.wait_for(RESOURCES_CHANGED, 4)
        assert log.methods == [PROMPTS_CHANGED, RESOURCES_CHANGED] * 4
