"""The bulk write path (issue 16): imports in batches keep every rule of one-at-a-time writes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from conftest import template_source
from pba_tunnel.config import Settings
from pba_tunnel.errors import ConflictError, NotFoundError
from pba_tunnel.importers.report import IMPORT_BATCH
from pba_tunnel.service import TemplateService, template_write
from pba_tunnel.store import BatchItem, WriteResult
from pba_tunnel.sync import import_path

pytestmark = pytest.mark.anyio
COUNT = IMPORT_BATCH * 2 + 10  # three transactions


def greeting(index: int, word: str = "Hello") -> str:
    return template_source(description=f"Greeting number {index}.", body=f"user:\n{word} {{{{ who }}}} {index}")


def write_files(folder: Path, word: str = "Hello") -> None:
    for index in range(COUNT):
        target = folder / f"group{index % 3}" / f"greet-{index:04d}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(greeting(index, word), encoding="utf-8")


def version_counts(settings: Settings) -> dict[int, int]:
    with sqlite3.connect(settings.sqlite_path or "") as connection:
        rows = connection.execute(
            "SELECT n, count(*) FROM (SELECT count(*) AS n FROM template_versions GROUP BY template_id) GROUP BY n"
        )
        return dict(rows.fetchall())


async def test_a_large_import_in_batches_writes_one_version_per_changed_file(
    service: TemplateService, settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "lib"
    write_files(folder)
    await service.create(greeting(7, "Hi"), name="greet-0007", category="group1")
    await service.delete("greet-0007")

    first = await import_path(service, folder)
    assert (len(first.added), len(first.unchanged), first.failed) == (COUNT - 1, 0, [])
    assert first.updated == ["greet-0007"]  # deleted, restored with the file's content as a new version
    assert version_counts(settings) == {1: COUNT - 1, 2: 1}  # every file once, greet-0007 twice
    assert [h.name for h in (await service.search("greeting number 1000")).results][:1] == ["greet-1000"]

    for index in (3, 600, COUNT - 1):  # one change in each batch
        (folder / f"group{index % 3}" / f"greet-{index:04d}.md").write_text(greeting(index, "Hey"), encoding="utf-8")
    (folder / "group0" / "greet-0300.md").write_text("not a template", encoding="utf-8")
    again = await import_path(service, folder)
    assert sorted(again.updated) == ["greet-0003", "greet-0600", f"greet-{COUNT - 1:04d}"]
    assert [path for path, _ in again.failed] == [str(folder / "group0" / "greet-0300.md")]
    assert len(again.unchanged) == COUNT - 4
    assert (await service.get("greet-0300")).version == 1  # the broken file left the stored one alone
    assert (await service.render("greet-0600", {"who": "Ada"})).text == "Hey Ada 600"
    assert [h.name for h in (await service.search("hey")).results] == ["greet-0003", "greet-0600", "greet-1009"]


async def test_a_batch_refuses_what_a_single_write_refuses_and_writes_the_rest(service: TemplateService) -> None:
    await service.create(greeting(1), name="taken")
    await service.create(greeting(2), name="gone")
    await service.delete("gone")

    def item(index: int, name: str, **options: bool) -> BatchItem:
        return BatchItem(template_write(service.parse(greeting(index), default_name=name)), f"row {index}", **options)

    results = await service.save_batch(
        [
            item(3, "fresh"),
            item(4, "taken", allow_update=False),
            BatchItem(service.check_partial("taken", "a partial"), "row 5"),
            item(6, "gone"),
            item(7, "fresh"),
            item(1, "taken"),
        ],
        origin="test",
    )
    assert results[0] == WriteResult(name="fresh", version=1, created=True)
    assert [type(r) for r in results[1:5]] == [ConflictError, ConflictError, NotFoundError, ConflictError]
    assert results[5] == WriteResult(name="taken", version=1, changed=False)
    assert (await service.get("fresh")).message == "row 3"
    assert [v.version for v in await service.history("taken")] == [1]
    with pytest.raises(NotFoundError):
        await service.get("gone")
