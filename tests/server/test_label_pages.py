"""Listings through a label view, over real connections: resources/list, the list_templates tool and the web
library give full pages of the labelled templates (at their labelled version) and a next cursor only when more
follow; with fallback every template appears."""

from __future__ import annotations

import html
import re
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp_server_support import HttpServer, http_servers, open_service

from labelled_library import LABEL, chunks, description_of, fill, shown
from pba_tunnel.server.app import McpApp
from pba_tunnel.server.caller import CallerDefaults
from pba_tunnel.server.slot import ServiceSlot

pytestmark = pytest.mark.anyio

PAGE = 2  # prompts/list, resources/list and web library page size here: 5 labelled templates make 2 + 2 + 1
FIXED_RESOURCES = ["templates://index", "stats://templates"]  # on the first resources/list page, besides the page
ROW = re.compile(r"<code>([^<]+)</code> · v(\d+)")
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')


async def resource_pages(client: Client) -> list[list[str]]:
    """Template URIs of each resources/list page, following nextCursor."""
    walked, cursor = [], None
    while True:
        page = await client.list_resources(cursor=cursor)
        walked.append([str(r.uri) for r in page.resources if str(r.uri) not in FIXED_RESOURCES])
        cursor = page.next_cursor
        if cursor is None:
            return walked


async def tool_pages(client: Client) -> list[list[tuple[str, int]]]:
    """(name, version) of each list_templates page of PAGE, following next_cursor."""
    walked, cursor = [], None
    while True:
        result = await client.call_tool("list_templates", {"limit": PAGE, "cursor": cursor})
        assert result.is_error is False, result.content
        assert result.structured_content is not None
        templates = result.structured_content["templates"]
        assert all(t["description"] == description_of(t["name"], t["version"]) for t in templates)
        walked.append([(t["name"], t["version"]) for t in templates])
        cursor = result.structured_content["next_cursor"]
        if cursor is None:
            return walked


def web_pages(base: str, path: str) -> list[list[tuple[str, int]]]:
    """(name, version) of the rows of each web library page, following its "Next" link."""
    walked: list[list[tuple[str, int]]] = []
    next_path: str | None = path
    while next_path is not None:
        response = httpx2.get(base + next_path, timeout=10)
        assert response.status_code == 200, response.text[:500]
        walked.append([(name, int(version)) for name, version in ROW.findall(response.text)])
        found = NEXT.search(response.text)
        next_path = html.unescape(found.group(1)) if found else None
    return walked


@pytest.mark.slow
async def test_label_views_list_full_pages_over_mcp_and_on_the_web_library(home: Path) -> None:
    service = await open_service(home)
    try:
        await fill(service)
    finally:
        await service.close()
    labelled = shown()
    env = {"PBA_TUNNEL_PAGE_SIZE": str(PAGE), "PBA_TUNNEL_WEB_PAGE_SIZE": str(PAGE)}
    with http_servers(lambda: HttpServer(home, "--transport", "http", env=env)) as (server,):
        async with Client(f"{server.base}/mcp/{LABEL}", mode="legacy", cache=None) as client:
            assert await resource_pages(client) == chunks([f"template://{n}" for n, _ in labelled], PAGE)
            assert await tool_pages(client) == chunks(labelled, PAGE)
        assert web_pages(server.base, f"/?label={LABEL}") == chunks(labelled, PAGE)
        assert web_pages(server.base, f"/?label={LABEL}&deleted=1") == chunks(labelled, PAGE)  # never a deleted one

    service = await open_service(home)  # with fallback (in process: an HTTP client's fallback is the server's)
    try:
        app = McpApp(ServiceSlot.of(service), page_size=PAGE, callers=CallerDefaults(label=LABEL, fallback_latest=True))
        async with Client(app.server, mode="legacy") as client:
            every = shown(fallback=True)
            assert await resource_pages(client) == chunks([f"template://{n}" for n, _ in every], PAGE)
            assert await tool_pages(client) == chunks(every, PAGE)
    finally:
        await service.close()
