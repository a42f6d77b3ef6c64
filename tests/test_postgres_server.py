"""The throwaway PostgreSQL server the suite starts: fresh databases, data kept across a restart, a store on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import make_settings, template_source
from pba_tunnel.service import TemplateService
from postgres_server import PostgresServer


def test_each_database_is_new_and_empty(postgres_server: PostgresServer) -> None:
    first, second = postgres_server.create_database(), postgres_server.create_database()
    assert first != second
    name = second.rsplit("/", 1)[1]
    tables = postgres_server.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", dbname=name)
    assert tables == "0"


def test_data_survives_a_restart(postgres_server: PostgresServer) -> None:
    name = postgres_server.create_database().rsplit("/", 1)[1]
    postgres_server.psql("CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)", dbname=name)
    postgres_server.restart()
    assert postgres_server.running
    assert postgres_server.psql("SELECT n FROM kept", dbname=name) == "42"


@pytest.mark.anyio
async def test_a_store_on_the_server_keeps_versions(postgres_url: str, home: Path) -> None:
    service = await TemplateService.open(make_settings(home, PBA_TUNNEL_DATABASE_URL=postgres_url))
    try:
        await service.create(template_source(), name="greet")
        await service.update("greet", template_source(body="user:\nHi {{ who }}"))
        stored = await service.get("greet")
        assert (stored.name, stored.current_version) == ("greet", 2)
    finally:
        await service.close()
