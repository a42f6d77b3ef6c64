"""Noticing other writers portably: PRAGMA data_version on a kept connection, then the generation row.

Two real connections (and real CLI processes) on one SQLite file: a template write by anyone is seen by the
next request, render events are not a template change, and callers that arrive together share one look.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from conftest import make_settings, run_cli, template_source
from pba_tunnel.config import Settings
from pba_tunnel.service import TemplateService
from pba_tunnel.store import Store

pytestmark = pytest.mark.anyio
SRC = Path(__file__).resolve().parents[2] / "src" / "pba_tunnel"


def _database_file(settings: Settings) -> Path:
    return Path(settings.database_url.split("///", 1)[1])


def _import(home: Path, tmp_path: Path, body: str) -> None:
    folder = tmp_path / f"import-{abs(hash(body))}"
    folder.mkdir()
    (folder / "greet.md").write_text(template_source(body=body), encoding="utf-8")
    result = run_cli("import", str(folder), home=home, env={"PBA_TUNNEL_SEED": "0"})
    assert result.returncode == 0, result.stderr


async def test_data_version_moves_when_another_connection_or_process_commits(settings: Settings) -> None:
    service = await TemplateService.open(settings)  # creates the file
    await service.close()
    first = await Store.open(settings.database_url)
    second = await Store.open(settings.database_url)
    try:
        before = first.data_version()
        assert before is not None
        assert first.data_version() == before  # nobody committed
        await first.get_meta("anything")  # reading through the pool is no commit either
        assert first.data_version() == before
        await second.set_meta("note", "from the second store")
        after_second = first.data_version()
        assert after_second not in (None, before)
        await first.set_meta("note", "from the first store's pool")  # another connection than the watching one
        after_own = first.data_version()
        assert after_own not in (None, after_second)
        code = (
            "import sqlite3, sys\n"
            "db = sqlite3.connect(sys.argv[1])\n"
            "db.execute(\"UPDATE store_meta SET value = 'other process' WHERE key = 'note'\")\n"
            "db.commit()\n"
        )
        subprocess.run([sys.executable, "-c", code, str(_database_file(settings))], check=True, timeout=30)
        assert first.data_version() not in (None, after_own)
    finally:
        await first.close()
        await second.close()


async def test_a_closed_store_no_longer_answers_a_data_version(settings: Settings) -> None:
    store = await Store.open(settings.database_url)
    assert store.data_version() is not None
    await store.close()
    assert store.data_version() is None


async def test_a_write_by_the_cli_is_seen_by_the_next_render(settings: Settings, home: Path, tmp_path: Path) -> None:
    service = await TemplateService.open(settings)
    try:
        await service.create(template_source(), name="greet")
        assert (await service.render("greet", {"who": "Ann"})).messages[0].content == "Hello Ann!"
        _import(home, tmp_path, "user:\nHi {{ who }}, from the CLI.")
        rendered = await service.render("greet", {"who": "Ann"})
        assert (rendered.version, rendered.messages[0].content) == (2, "Hi Ann, from the CLI.")
    finally:
        await service.close()


async def test_render_events_of_any_process_keep_the_cache(settings: Settings, home: Path) -> None:
    service = await TemplateService.open(settings)
    other = await TemplateService.open(settings)
    try:
        await service.create(template_source(), name="greet")
        cached = await service.current("greet")
        await service.render("greet", {"who": "Ann"})
        await service.flush_events()  # this process's own event write
        await other.render("greet", {"who": "Bob"})
        await other.flush_events()  # another connection's
        result = run_cli("render", "greet", "-a", "who=Cy", home=home, env={"PBA_TUNNEL_SEED": "0"})
        assert result.returncode == 0, result.stderr  # another process's
        assert await service.sync_changes() is False
        assert await service.current("greet") is cached
        with sqlite3.connect(_database_file(settings)) as db:  # the events were written
            assert db.execute("SELECT count(*) FROM render_events").fetchone() == (3,)
    finally:
        await other.close()
        await service.close()


async def test_a_template_write_through_another_connection_clears_the_cache(settings: Settings) -> None:
    service = await TemplateService.open(settings)
    other = await TemplateService.open(settings)
    try:
        await service.create(template_source(), name="greet")
        cached = await service.current("greet")
        await other.update("greet", template_source(body="user:\nBye {{ who }}."))
        assert await service.sync_changes() is True
        assert await service.sync_changes() is False
        stored, _parsed = await service.current("greet")
        assert stored is not cached[0]
        assert stored.version == 2
    finally:
        await other.close()
        await service.close()


async def test_callers_that_arrive_together_share_one_look(settings: Settings) -> None:
    service = await TemplateService.open(settings)
    other = await TemplateService.open(settings)
    try:
        await other.create(template_source(), name="greet")
        answers: list[bool] = []

        async def look() -> None:
            answers.append(await service.sync_changes())

        async with anyio.create_task_group() as group:
            for _ in range(20):
                group.start_soon(look)
        # Each caller alone would have looked itself, and only the first would have seen the change.
        assert answers == [True] * 20
        assert await service.sync_changes() is False
    finally:
        await other.close()
        await service.close()


async def test_a_partial_written_elsewhere_is_used_by_the_next_render(settings: Settings) -> None:
    service = await TemplateService.open(settings)
    other = await TemplateService.open(settings)
    try:
        await service.save(service.check_partial("_partials/sig.md", "-- Ann"), origin="test")
        body = 'user:\nHello {{ who }}!\n{% include "_partials/sig.md" %}'
        await service.create(template_source(body=body), name="greet")
        assert "-- Ann" in (await service.render("greet", {"who": "Bo"})).messages[0].content
        await other.save(other.check_partial("_partials/sig.md", "-- Bea"), origin="test")
        assert "-- Bea" in (await service.render("greet", {"who": "Bo"})).messages[0].content
    finally:
        await other.close()
        await service.close()


def test_the_core_uses_no_posix_only_calls() -> None:
    # server/ may hold one guarded Unix-only transport (with a portable fallback); nothing else may.
    forbidden = re.compile(r"\bos\.pread\b|\bos\.pwrite\b|\bimport fcntl\b|\bfcntl\.|\badd_reader\b")
    offenders = [
        f"{path.relative_to(SRC)}:{number}"
        for path in SRC.rglob("*.py")
        if "server" not in path.relative_to(SRC).parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if forbidden.search(line)
    ]
    assert offenders == []


def test_the_watching_connection_holds_no_read_transaction(tmp_path: Path) -> None:
    # A watcher that kept a read transaction open would stop checkpoints and let the WAL grow without bound.
    database = tmp_path / "t.db"
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("CREATE TABLE t (x)")

    async def main() -> None:
        store = await Store.open(f"sqlite+aiosqlite:///{database}", migrate_schema=False)
        try:
            assert store.data_version() is not None
            for i in range(50):
                writer.execute("INSERT INTO t VALUES (?)", (i,))
            assert store.data_version() is not None
            busy, _log, _checkpointed = writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            assert busy == 0
        finally:
            await store.close()

    anyio.run(main)
    writer.close()


async def test_a_store_without_a_file_answers_through_the_generation(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, PBA_TUNNEL_DATABASE_URL="sqlite+aiosqlite:///:memory:")
    store = await Store.open(settings.database_url)
    try:
        assert store.data_version() is None
        assert await store.generation() == 0
    finally:
        await store.close()
