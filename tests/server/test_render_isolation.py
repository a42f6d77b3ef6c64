"""A hostile render on one connection must not hold up another client: renders run off the event loop."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client, MCPError
from mcp_server_support import GREET_SOURCE, SPIN_SOURCE, HttpServer, prepare_store

pytestmark = [pytest.mark.anyio, pytest.mark.filterwarnings("ignore:ping is removed")]

ALLOWED_DELAY = 0.100  # issue 9: a ping on another connection may wait at most this much longer than usual


async def ping_seconds(client: Client) -> float:
    started = time.perf_counter()
    await client.send_ping()
    return time.perf_counter() - started


async def test_a_spinning_render_does_not_delay_another_clients_ping(home: Path) -> None:
    await prepare_store(home, {"greet": GREET_SOURCE, "spin": SPIN_SOURCE})
    server = HttpServer(home, "--transport", "http", env={"PBA_TUNNEL_MAX_RENDER_SECONDS": "1.5"})
    try:
        await anyio.to_thread.run_sync(server.wait_ready)
        url = f"{server.base}/mcp"
        async with Client(url, mode="legacy", cache=None) as attacker, Client(url, mode="legacy", cache=None) as other:
            usual = statistics.median([await ping_seconds(other) for _ in range(20)])
            during: list[float] = []
            failure: list[MCPError] = []

            async def spin() -> None:
                try:
                    await attacker.get_prompt("spin")
                except MCPError as exc:
                    failure.append(exc)

            async with anyio.create_task_group() as group:
                group.start_soon(spin)
                await anyio.sleep(0.2)  # the render is under way
                while not failure:
                    during.append(await ping_seconds(other))
                    await anyio.sleep(0.01)

            assert failure[0].error.data == {"reason": "render_timeout"}
            assert len(during) >= 10, during
            # Nine pings in ten within the allowance (one may meet the machine's other work on 2 cores), and none
            # waits for the render: a render on the event loop would hold a ping for the whole 1.5 s.
            assert statistics.quantiles(during, n=10)[-1] < usual + ALLOWED_DELAY, (usual, sorted(during)[-5:])
            assert max(during) < 0.5, sorted(during)[-5:]
            assert (await other.get_prompt("greet", {"who": "Ann"})).messages[0].content.text == "Hello Ann!"  # type: ignore[union-attr]
    finally:
        server.stop()
