"""Several stateless instances on one PostgreSQL database: every write, by any instance or the CLI, reaches all.

Real server processes on loopback and a throwaway PostgreSQL cluster (the ``postgres_server`` fixture).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp_server_support import GREET_SOURCE, HttpServer, template_file
from team_support import (
    NOTIFY_SECONDS,
    greet_version,
    health,
    instances,
    next_change,
    pg_cli,
    pg_instance,
    prepare_pg_store,
    text_of,
    update,
)

from postgres_server import PostgresServer

pytestmark = pytest.mark.anyio


@dataclass
class Team:
    home: Path
    url: str
    a: HttpServer
    b: HttpServer
    postgres: PostgresServer


@pytest.fixture(scope="module")
def team(postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    """Two stateless instances (A and B) on one PostgreSQL database that holds ``greet``."""
    home = tmp_path_factory.mktemp("team")
    url = postgres_server.create_database("team")
    anyio.run(prepare_pg_store, home, url, {"greet": GREET_SOURCE})
    with instances(pg_instance(home, url), pg_instance(home, url)) as (a, b):
        yield Team(home, url, a, b, postgres_server)


async def greeting(client: Client) -> str:
    result = await client.get_prompt("greet", {"who": "Ann"})
    content = result.messages[0].content
    assert content.type == "text"
    return content.text


async def test_a_write_through_another_instance_or_the_cli_reaches_a_listener_within_a_second(team: Team) -> None:
    async with (
        Client(f"{team.a.base}/mcp", cache=None) as on_a,
        Client(f"{team.b.base}/mcp", cache=None) as on_b,
        on_a.listen(prompts_list_changed=True) as subscription,
    ):
        assert await greeting(on_a) == "Hello Ann!"  # A's cache now holds greet
        result = await update(on_b, "greet", greet_version("Hi"))
        assert not result.is_error, text_of(result)
        assert await next_change(subscription, NOTIFY_SECONDS) < NOTIFY_SECONDS
        assert await greeting(on_a) == "Hi Ann!"

        path = template_file(team.home, "welcome", greet_version("Welcome"))
        done = await anyio.to_thread.run_sync(lambda: pg_cli(team.home, team.url, "import", str(path)))
        assert (done.returncode, done.stdout) == (0, "added 1, updated 0, unchanged 0, failed 0\n"), done.stderr
        await next_change(subscription, NOTIFY_SECONDS)
        assert "welcome" in [prompt.name for prompt in (await on_a.list_prompts()).prompts]


@pytest.mark.slow
async def test_a_hundred_writes_through_b_each_reach_a_listener_on_a(team: Team) -> None:
    delays: list[float] = []
    async with (
        Client(f"{team.a.base}/mcp", cache=None) as on_a,
        Client(f"{team.b.base}/mcp", cache=None) as on_b,
        on_a.listen(prompts_list_changed=True) as subscription,
    ):
        for number in range(100):
            result = await update(on_b, "greet", greet_version(f"Hello #{number}"))
            assert not result.is_error, text_of(result)
            delays.append(await next_change(subscription, NOTIFY_SECONDS))
            assert await greeting(on_a) == f"Hello #{number} Ann!"  # A serves the write, not a stale cache
    assert max(delays) < NOTIFY_SECONDS
    p50, worst = statistics.median(delays) * 1000, max(delays) * 1000
    print(f"notification delay across instances: p50 {p50:.0f} ms, max {worst:.0f} ms")


@pytest.mark.slow
async def test_notifications_resume_after_the_database_kills_the_listening_connection(team: Team) -> None:
    before = health(team.a)["listener"]
    assert before["state"] == "listening"
    killed = team.postgres.psql(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = 'pba-tunnel-listener' AND datname = current_database()",
        dbname=team.url.rsplit("/", 1)[1],
    )
    assert killed == "2"  # A's and B's
    async with (
        Client(f"{team.a.base}/mcp", cache=None) as on_a,
        Client(f"{team.b.base}/mcp", cache=None) as on_b,
        on_a.listen(prompts_list_changed=True) as subscription,
    ):
        with anyio.fail_after(10):
            while (state := health(team.a)["listener"])["reconnects"] == before["reconnects"]:
                await anyio.sleep(0.05)
        assert state["state"] == "listening"
        result = await update(on_b, "greet", greet_version("Back"))
        assert not result.is_error, text_of(result)
        assert await next_change(subscription, NOTIFY_SECONDS) < NOTIFY_SECONDS
        assert await greeting(on_a) == "Back Ann!"


@pytest.mark.slow
async def test_two_instances_with_200_concurrent_updates_each_lose_no_accepted_write(team: Team) -> None:
    """400 updates at once, each expecting one of the next 20 versions: whoever finds its version current wins."""
    outcomes: list[tuple[bool, int, str]] = []  # (accepted, version stored or expected, source or refusal)
    async with (
        Client(f"{team.a.base}/mcp", cache=None) as on_a,
        Client(f"{team.b.base}/mcp", cache=None) as on_b,
    ):
        first = (await on_a.call_tool("get_template", {"name": "greet"})).structured_content
        assert first is not None
        start = first["version"]

        async def write(client: Client, number: int) -> None:
            source = greet_version(f"Writer {number}")
            result = await update(client, "greet", source, expected_version=start + number % 20)
            if result.is_error:
                outcomes.append((False, start + number % 20, text_of(result)))
            else:
                assert result.structured_content is not None
                outcomes.append((True, result.structured_content["version"], source))

        async with anyio.create_task_group() as group:
            for number in range(400):
                group.start_soon(write, on_a if number % 2 else on_b, number)

        accepted = {version: source for won, version, source in outcomes if won}
        refused = [text for won, _, text in outcomes if not won]
        assert len(accepted) + len(refused) == 400
        assert all("someone changed it meanwhile" in text for text in refused), refused[:3]
        # Accepted writes are successive versions, one per expected version at most: none overwrote another.
        assert sorted(accepted) == list(range(start + 1, start + 1 + len(accepted)))
        history = (await on_a.call_tool("template_history", {"name": "greet"})).structured_content
        assert history is not None
        assert [entry["version"] for entry in history["versions"]] == list(range(1, start + 1 + len(accepted)))
        for version, source in accepted.items():  # and each holds what its writer sent
            stored = await on_b.call_tool("get_template", {"name": "greet", "version": version})
            assert stored.structured_content is not None
            assert stored.structured_content["source"] == source


def test_healthz_reports_kind_latency_pool_and_listener_and_readyz_is_true(team: Team) -> None:
    body = health(team.b)
    assert (body["http_status"], body["status"], body["store"], body["kind"]) == (200, "ok", "reachable", "postgresql")
    assert 0 < body["latency_ms"] < 5000
    assert set(body["pool"]) == {"size", "checked_out", "overflow"}
    assert body["listener"]["state"] == "listening"
    assert httpx2.get(f"{team.b.base}/readyz", timeout=10).json() == {"status": "ready"}
