"""PostgreSQL as the store: instances starting together migrate once, the CLI works on it, its search index is
kept by the database itself, and enhancement events round-trip on both backends."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from conftest import make_settings, query_rows, run_cli, template_source
from pba_tunnel.service import TemplateService, upgrade_store
from pba_tunnel.store.migrate import HEAD_REVISION
from pba_tunnel.store.records import EnhancementEvent
from postgres_server import PostgresServer

pytestmark = pytest.mark.anyio


@pytest.mark.postgres
async def test_instances_starting_at_once_migrate_the_schema_once(postgres_url: str) -> None:
    ran: list[bool] = []

    async def start() -> None:
        ran.append(await upgrade_store(postgres_url))

    async with anyio.create_task_group() as group:
        for _ in range(3):
            group.start_soon(start)
    assert sorted(ran) == [False, False, True]  # the others waited on the advisory lock, then found it done
    assert await query_rows(postgres_url, "SELECT version_num FROM alembic_version") == [(HEAD_REVISION,)]


@pytest.mark.postgres
@pytest.mark.slow
def test_the_cli_migrates_seeds_and_searches_a_postgresql_store(home: Path, postgres_url: str) -> None:
    env = {"PBA_TUNNEL_DATABASE_URL": postgres_url}
    first = run_cli("db", "upgrade", home=home, env=env)
    assert (first.returncode, first.stdout) == (0, "schema upgraded to the newest revision\n"), first.stderr

    found = run_cli("search", "code", "review", "--json", "--limit", "2", home=home, env=env)  # seeds first
    assert found.returncode == 0, found.stderr
    payload = json.loads(found.stdout)
    assert (payload["mode"], payload["results"][0]["name"]) == ("all", "code-review")
    assert "**review**" in payload["results"][0]["snippet"].lower()
    assert not (home / "pba-tunnel.db").exists()  # everything went to PostgreSQL


@pytest.mark.postgres
async def test_writes_by_any_client_of_the_database_reach_the_search_index(
    home: Path, postgres_store_url: str, postgres_server: PostgresServer
) -> None:
    service = await TemplateService.open(make_settings(home, PBA_TUNNEL_DATABASE_URL=postgres_store_url))
    try:
        await service.create(template_source(description="About the quokkafish."), name="quokka")
        # Another program renames the description straight in SQL: the triggers reindex the template.
        postgres_server.psql(
            "UPDATE templates SET description = 'About the wombat.' WHERE name = 'quokka'",
            dbname=postgres_store_url.rsplit("/", 1)[1],
        )
        assert [h.name for h in (await service.search("wombat")).results] == ["quokka"]
        assert [h.name for h in (await service.search("quokkafish")).results if not h.fuzzy] == []
        assert await service.reindex() == 1
    finally:
        await service.close()


async def test_enhancement_events_are_kept_and_read_back(home: Path, backend_env: dict[str, str]) -> None:
    service = await TemplateService.open(make_settings(home, **backend_env))
    try:
        for goal, saved in (("concise", False), ("clarity", True)):
            await service.record_enhancement(
                EnhancementEvent(
                    name="greet", goal=goal, provider="fake", model="m", latency_ms=2.5, attempts=1, saved=saved
                )
            )
        events = await service.enhancement_events("greet")
        assert [(e.goal, e.saved, e.latency_ms) for e in events] == [("clarity", True, 2.5), ("concise", False, 2.5)]
        assert all(e.created_at is not None for e in events)
        assert await service.enhancement_events("other") == []
    finally:
        await service.close()
