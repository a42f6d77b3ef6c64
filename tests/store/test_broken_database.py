"""A database file that is not SQLite, is corrupted or has a foreign schema gives a clear StoreError (and one
error line on the CLI), never a traceback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from conftest import make_settings
from pba_tunnel.errors import StoreError
from pba_tunnel.service import TemplateService
from pba_tunnel.startup import open_service

# A store that fails to open must close its connection: a leaked aiosqlite thread dies noisily later on.
pytestmark = [pytest.mark.anyio, pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")]


def store_file(home: Path) -> Path:
    return home / "pba-tunnel.db"


async def open_error(home: Path) -> str:
    with pytest.raises(StoreError) as caught:
        await TemplateService.open(make_settings(home))
    assert caught.value.code == "store_error"
    return caught.value.message


def not_valid(home: Path, detail: str) -> str:
    return (
        f"the store {store_file(home)} is not a valid SQLite database ({detail}); move the file away or point "
        "PBA_TUNNEL_DATABASE_URL / --database-url at another store"
    )


async def healthy_store_bytes(home: Path) -> bytes:
    service = await open_service(make_settings(home, seed=True))
    await service.close()
    return store_file(home).read_bytes()


async def test_a_text_file_is_not_a_database(home: Path) -> None:
    store_file(home).write_text("these are my notes, not a database\n" * 50)
    assert await open_error(home) == not_valid(home, "file is not a database")


async def test_a_truncated_database_is_reported_as_malformed(home: Path, tmp_path: Path) -> None:
    data = await healthy_store_bytes(tmp_path / "healthy")
    assert len(data) > 8192
    store_file(home).write_bytes(data[: len(data) // 2])
    assert await open_error(home) == not_valid(home, "database disk image is malformed")


async def test_overwritten_pages_are_reported_as_malformed(home: Path, tmp_path: Path) -> None:
    data = await healthy_store_bytes(tmp_path / "healthy")
    store_file(home).write_bytes(data[:100] + b"\xff" * (len(data) - 100))
    assert await open_error(home) == not_valid(home, "database disk image is malformed")


async def test_a_destroyed_header_is_not_a_database(home: Path, tmp_path: Path) -> None:
    data = await healthy_store_bytes(tmp_path / "healthy")
    store_file(home).write_bytes(b"\0" * 100 + data[100:])
    assert await open_error(home) == not_valid(home, "file is not a database")


async def test_another_applications_sqlite_file_is_refused(home: Path) -> None:
    with sqlite3.connect(store_file(home)) as connection:
        connection.execute("CREATE TABLE templates (body TEXT)")
    assert await open_error(home) == f"the store {store_file(home)} cannot be used: table templates already exists"
    with sqlite3.connect(store_file(home)) as connection:
        assert connection.execute("SELECT name FROM sqlite_master").fetchall() == [("templates",)]


async def test_a_store_from_a_newer_release_is_refused(home: Path) -> None:
    await healthy_store_bytes(home)
    with sqlite3.connect(store_file(home)) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_future'")
    assert await open_error(home) == (
        f"the schema of the store sqlite+aiosqlite:///{store_file(home)} cannot be migrated "
        "(Can't locate revision identified by '9999_future'); if a newer pba-tunnel created it, "
        "upgrade mcp-pba-tunnel"
    )


async def test_a_folder_in_place_of_the_file_is_refused(home: Path) -> None:
    store_file(home).mkdir()
    assert await open_error(home) == (
        f"the store {store_file(home)} is a folder, not a database file; move the folder away or point "
        "PBA_TUNNEL_DATABASE_URL / --database-url at another store"
    )


async def test_a_url_whose_driver_is_missing_is_refused_without_its_password(home: Path) -> None:
    settings = make_settings(home, PBA_TUNNEL_DATABASE_URL="mysql+pymysql://pba:hunter2@127.0.0.1/pba")
    with pytest.raises(StoreError) as caught:
        await TemplateService.open(settings)
    # pymysql is missing here; were it installed, SQLAlchemy would refuse it as a synchronous driver instead
    assert caught.value.message.startswith("cannot use database URL 'mysql+pymysql://…@127.0.0.1/pba': ")
    assert "hunter2" not in caught.value.message


async def test_an_empty_file_becomes_a_new_store(home: Path) -> None:
    store_file(home).touch()
    service = await TemplateService.open(make_settings(home))
    try:
        assert (await service.list_templates()).items == []
    finally:
        await service.close()


def test_the_cli_reports_a_broken_store_in_one_line(cli, home: Path) -> None:  # type: ignore[no-untyped-def]
    store_file(home).write_text("these are my notes, not a database\n" * 50)
    for command in (["list", "--json"], ["db", "upgrade"]):
        result = cli(*command)
        assert (result.returncode, result.stdout) == (1, ""), command
        assert result.stderr == f"error: {not_valid(home, 'file is not a database')}\n", command
