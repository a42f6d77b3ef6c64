"""A server killed outright (SIGKILL on POSIX) keeps the counts of every render older than its last second."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import anyio
from mcp_server_support import GREET_SOURCE, open_service, prepare_store, raw_stdio

from pba_tunnel.store import UsageStat


async def _usage(home: Path) -> list[UsageStat]:
    service = await open_service(home)
    try:
        return await service.usage(since=datetime.now(UTC).date(), by="client")
    finally:
        await service.close()


def test_a_killed_server_loses_at_most_its_last_second_of_counts(home: Path) -> None:
    anyio.run(prepare_store, home, {"greet": GREET_SOURCE})
    with raw_stdio(home) as server:
        server.initialize()
        for _ in range(5):
            assert "result" in server.request("prompts/get", {"name": "greet", "arguments": {"who": "Al"}})
        time.sleep(1.0)
        server.process.kill()  # no chance to write anything on the way out
        server.process.wait()

    (stat,) = anyio.run(_usage, home)
    assert (stat.name, stat.group, stat.renders, stat.errors) == ("greet", "mcp:raw-test", 5, 0)
