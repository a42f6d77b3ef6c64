"""On PostgreSQL the listener tells the service of writes, so a warm read asks the database nothing at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp_server_support import GREET_SOURCE, open_service
from sqlalchemy import event
from sqlalchemy.engine import Engine
from team_support import greet_version

pytestmark = pytest.mark.anyio


class StatementCount:
    """Counts the SQL statements every engine in this process runs (SQLAlchemy's public engine events)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any) -> None:
        self.count += 1


@pytest.fixture
def statements() -> Iterator[StatementCount]:
    counter = StatementCount()
    event.listen(Engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(Engine, "before_cursor_execute", counter)


async def test_warm_reads_cost_no_query_and_writes_by_anyone_are_read_back(
    home: Path, postgres_url: str, statements: StatementCount
) -> None:
    reader = await open_service(home, PBA_TUNNEL_DATABASE_URL=postgres_url)
    writer = await open_service(home, PBA_TUNNEL_DATABASE_URL=postgres_url)
    try:
        await writer.create(GREET_SOURCE, name="greet")
        async with anyio.create_task_group() as group:
            group.start_soon(reader.follow_changes)
            with anyio.fail_after(10):
                while (state := reader.store_listener_state()) is None or state.state != "listening":
                    await anyio.sleep(0.02)
            await reader.current("greet")  # the cache is warm and the listener's first look is taken
            before = statements.count
            for _ in range(100):
                stored, _parsed = await reader.current("greet")
            assert statements.count == before  # no generation round trip per request
            assert stored.version == 1

            await writer.update("greet", greet_version("Hi"))
            with anyio.fail_after(1):  # heard of within a second, then read once
                while (await reader.current("greet"))[0].version != 2:
                    await anyio.sleep(0.01)

            await reader.update("greet", greet_version("Mine"))  # its own write: read back at once, not stale
            assert (await reader.current("greet"))[0].version == 3
            group.cancel_scope.cancel()
    finally:
        await reader.close()
        await writer.close()
