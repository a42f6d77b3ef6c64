"""Live template folders: the watcher in-process, and `serve --watch` end to end with a real MCP client."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, MCPError, StdioServerParameters
from watchfiles import Change

from conftest import cli_env, template_source
from pba_tunnel.errors import NotFoundError
from pba_tunnel.service import TemplateService
from pba_tunnel.watch import FolderWatcher

pytestmark = pytest.mark.anyio


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


async def versions(service: TemplateService, name: str) -> int:
    return len(await service.history(name))


async def test_the_first_sync_imports_the_folder_with_categories(service: TemplateService, tmp_path: Path) -> None:
    write(tmp_path / "greet.md", template_source())
    write(tmp_path / "ops" / "page.md", template_source(description="Pages someone."))
    watcher = FolderWatcher(service, tmp_path)
    await watcher.sync_all()
    assert (await service.get("greet")).category is None
    assert (await service.get("page")).category == "ops"


async def test_a_changed_file_is_a_new_version_and_an_unchanged_save_is_not(
    service: TemplateService, tmp_path: Path
) -> None:
    path = write(tmp_path / "greet.md", template_source())
    watcher = FolderWatcher(service, tmp_path)
    await watcher.sync_all()
    write(path, template_source(description="Greets someone warmly."))
    await watcher.apply({(Change.modified, str(path))})
    assert (await service.get("greet")).description == "Greets someone warmly."
    await watcher.apply({(Change.modified, str(path))})  # an editor saving the same bytes again
    assert await versions(service, "greet") == 2


async def test_an_invalid_edit_leaves_the_stored_version(service: TemplateService, tmp_path: Path) -> None:
    path = write(tmp_path / "greet.md", template_source())
    watcher = FolderWatcher(service, tmp_path)
    await watcher.sync_all()
    write(path, "---\ndescription: broken\n---\nHello {{ who }}\n")  # `who` is not declared
    await watcher.apply({(Change.modified, str(path))})
    stored = await service.get("greet")
    assert (stored.version, stored.description) == (1, "Greets someone.")


async def test_deleting_the_file_soft_deletes_and_recreating_restores(service: TemplateService, tmp_path: Path) -> None:
    path = write(tmp_path / "greet.md", template_source())
    watcher = FolderWatcher(service, tmp_path)
    await watcher.sync_all()
    path.unlink()
    await watcher.apply({(Change.deleted, str(path))})
    with pytest.raises(NotFoundError, match="is deleted"):
        await service.get("greet")
    write(path, template_source())
    await watcher.apply({(Change.added, str(path))})
    assert (await service.get("greet")).version == 1  # same content: restored, no new version


async def test_editor_temporary_and_hidden_files_are_ignored(service: TemplateService, tmp_path: Path) -> None:
    watcher = FolderWatcher(service, tmp_path)
    swap = write(tmp_path / ".greet.md.swp", template_source())
    hidden = write(tmp_path / ".git" / "x.md", template_source())
    backup = write(tmp_path / "greet.md~", template_source())
    await watcher.apply({(Change.added, str(p)) for p in (swap, hidden, backup)})
    assert (await service.list_templates()).items == []


async def test_serve_watch_follows_edits_and_notifies_clients(tmp_path: Path, home: Path) -> None:
    folder = tmp_path / "live"
    write(folder / "greet.md", template_source())
    notifications: list[str] = []

    async def on_message(message: Any) -> None:
        method = getattr(message, "method", None)
        if isinstance(method, str):
            notifications.append(method)

    env = cli_env(home, PBA_TUNNEL_SEED="0")
    target = StdioServerParameters(
        command=sys.executable, args=["-m", "pba_tunnel", "serve", "--watch", str(folder)], env=env
    )
    async with Client(target, mode="legacy", message_handler=on_message, read_timeout_seconds=30) as client:

        async def prompt_names() -> set[str]:
            return {p.name for p in (await client.list_prompts()).prompts}

        async def eventually(check: Any) -> None:
            with anyio.fail_after(15):
                while not await check():
                    await anyio.sleep(0.1)

        await eventually(lambda: _has(prompt_names, "greet"))
        notifications.clear()
        write(folder / "farewell.md", template_source(description="Says goodbye.", body="user:\nBye {{ who }}!"))
        await eventually(lambda: _has(prompt_names, "farewell"))
        result = await client.get_prompt("farewell", {"who": "Ada"})
        assert result.messages[0].content.text == "Bye Ada!"  # type: ignore[union-attr]
        with anyio.fail_after(5):
            while "notifications/prompts/list_changed" not in notifications:
                await anyio.sleep(0.05)

        write(folder / "farewell.md", "---\ndescription: no closing marker\n")  # invalid: ignored
        write(folder / "greet.md", template_source(body="user:\nHi there {{ who }}!"))
        await eventually(lambda: _renders(client, "greet", "Hi there Ada!"))
        assert (await client.get_prompt("farewell", {"who": "Ada"})).messages[0].content.text == "Bye Ada!"  # type: ignore[union-attr]

        (folder / "greet.md").unlink()
        await eventually(lambda: _lacks(prompt_names, "greet"))
        with pytest.raises(MCPError) as raised:
            await client.get_prompt("greet", {"who": "Ada"})
        assert raised.value.error.code == -32602


async def _has(names: Any, name: str) -> bool:
    return name in await names()


async def _lacks(names: Any, name: str) -> bool:
    return name not in await names()


async def _renders(client: Client, name: str, text: str) -> bool:
    result = await client.get_prompt(name, {"who": "Ada"})
    return result.messages[0].content.text == text  # type: ignore[union-attr]
