"""PostgreSQL stopped and started again under traffic: errors during the outage only, fast, and nothing lost.

A cluster of its own (stopping the shared one would fail other tests) and two stateless instances, started while
the database is down; then clients read through one and write through the other while it goes down again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client, MCPError
from mcp_server_support import GREET_SOURCE
from team_support import (
    NOTIFY_SECONDS,
    greet_version,
    health,
    instances,
    next_change,
    pg_instance,
    prepare_pg_store,
    text_of,
    update,
)

from postgres_server import PostgresServer

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

# A request during the outage is answered (with an error) at least this fast: the connect timeout (5 s) bounds it
# when the database cannot be reached at all; a stopped one refuses at once. Slack for a busy machine.
FAIL_FAST_SECONDS = 8.0
HANG_SECONDS = 30.0  # the test's own guard: a request not answered by then hangs
DOWN_SECONDS = 2.0


@dataclass
class Outcome:
    started: float
    seconds: float  # until the answer came
    ok: bool
    detail: str  # the greeting read, the source written, or the error
    version: int | None = None


async def greeting(client: Client) -> str:
    content = (await client.get_prompt("greet", {"who": "Ann"})).messages[0].content
    assert content.type == "text"
    return content.text


@pytest.fixture
def own_postgres(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    """A cluster of this test's own, started."""
    server = PostgresServer.create(postgres_server.bindir)
    try:
        server.start()
        yield server
    finally:
        server.destroy()


async def test_stopping_and_restarting_postgres_under_traffic_loses_no_acknowledged_write(
    own_postgres: PostgresServer, home: Path
) -> None:
    url = own_postgres.create_database("outage")
    await prepare_pg_store(home, url, {"greet": GREET_SOURCE})
    reads: list[Outcome] = []
    writes: list[Outcome] = []
    stop = anyio.Event()

    # The instances start while the database is down: they serve, say why, are not ready, and recover alone.
    await anyio.to_thread.run_sync(own_postgres.stop)
    with instances(pg_instance(home, url), pg_instance(home, url)) as (a, b):
        for server in (a, b):
            assert httpx2.get(f"{server.base}/readyz", timeout=10).status_code == 503
            assert health(server) == {
                "http_status": 503,
                "status": "error",
                "store": "unreachable",
                "error": "store_error",
            }
        await anyio.to_thread.run_sync(own_postgres.start)
        with anyio.fail_after(30):  # each retries opening the store every 5 s
            while not all(httpx2.get(f"{s.base}/readyz", timeout=10).status_code == 200 for s in (a, b)):
                await anyio.sleep(0.2)
        async with (
            Client(f"{a.base}/mcp", cache=None) as on_a,
            Client(f"{b.base}/mcp", cache=None) as on_b,
        ):

            async def read() -> None:
                while not stop.is_set():
                    began = time.perf_counter()
                    try:
                        with anyio.fail_after(HANG_SECONDS):
                            text = await greeting(on_a)
                        reads.append(Outcome(began, time.perf_counter() - began, True, text))
                    except MCPError as exc:  # checked below, with the others
                        error = f"{exc.error.code} {exc.error.message}"
                        reads.append(Outcome(began, time.perf_counter() - began, False, error))
                    await anyio.sleep(0.05)

            async def write() -> None:
                number = 0
                while not stop.is_set():
                    number += 1
                    source = greet_version(f"Outage{number}")
                    began = time.perf_counter()
                    with anyio.fail_after(HANG_SECONDS):
                        result = await update(on_b, "greet", source)
                    took = time.perf_counter() - began
                    if result.is_error:
                        writes.append(Outcome(began, took, False, text_of(result)))
                    else:
                        assert result.structured_content is not None
                        writes.append(Outcome(began, took, True, source, result.structured_content["version"]))
                    await anyio.sleep(0.05)

            async with anyio.create_task_group() as group:
                group.start_soon(read)
                group.start_soon(write)
                await anyio.sleep(1.0)
                down_from = time.perf_counter()
                await anyio.to_thread.run_sync(own_postgres.stop)
                await anyio.sleep(DOWN_SECONDS)
                await anyio.to_thread.run_sync(own_postgres.start)
                up_at = time.perf_counter()
                await anyio.sleep(2.0)
                stop.set()

            failures = [o for o in reads + writes if not o.ok]
            assert failures, "the outage went unnoticed"
            # Each failed request overlapped the outage (one sent just before the stop may fail as it lands).
            assert all(o.started < up_at and o.started + o.seconds > down_from for o in failures), "error outside it"
            assert all(o.seconds < FAIL_FAST_SECONDS for o in failures)
            assert all(o.detail.startswith("-32603 template store unavailable: ") for o in reads if not o.ok)
            assert all(o.detail.startswith("update_template failed: the store ") for o in writes if not o.ok)
            assert any(o.ok and o.started > up_at for o in reads)
            assert any(o.ok and o.started > up_at for o in writes)

            # Every acknowledged write is there, as written; the library answers as it did before.
            acknowledged = {o.version: o.detail for o in writes if o.ok}
            history = (await on_a.call_tool("template_history", {"name": "greet"})).structured_content
            assert history is not None
            assert set(acknowledged) <= {entry["version"] for entry in history["versions"]}
            for version, source in acknowledged.items():
                stored = (
                    await on_a.call_tool("get_template", {"name": "greet", "version": version})
                ).structured_content
                assert stored is not None
                assert stored["source"] == source
            current = (await on_b.call_tool("get_template", {"name": "greet"})).structured_content
            assert current is not None
            assert current["version"] >= max(acknowledged)
            word = current["source"].rsplit("\n", 2)[-2].split()[0]  # e.g. Outage17 (the current greeting)
            assert await greeting(on_a) == f"{word} Ann!"  # A serves the current version, not a stale one
            # The search index agrees with the table: the current version is found by its own word.
            found = (await on_a.call_tool("search_templates", {"query": word.lower()})).structured_content
            assert found is not None
            assert [hit["name"] for hit in found["results"]] == ["greet"]

            # And the instances listen again: a write through B reaches a listener on A within a second.
            with anyio.fail_after(10):
                while health(a)["listener"]["state"] != "listening":
                    await anyio.sleep(0.1)
            async with on_a.listen(prompts_list_changed=True) as subscription:
                result = await update(on_b, "greet", greet_version("Recovered"))
                assert not result.is_error, text_of(result)
                assert await next_change(subscription, NOTIFY_SECONDS) < NOTIFY_SECONDS
