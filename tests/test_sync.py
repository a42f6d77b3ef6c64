"""Import of a file or folder and export to a folder: versions only for changes, bad files skipped whole,
the summary line and exit code of the real CLI, and the starter library's round trip."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from conftest import STARTER, make_settings, template_source
from pba_tunnel.config import Settings
from pba_tunnel.errors import NotFoundError
from pba_tunnel.service import TemplateService
from pba_tunnel.sync import export_to, import_path

GREET = template_source()
WAVE = template_source(description="Waves.", body="user:\nWave at {{ who }}.")
BROKEN = template_source(body="user:\nHello {{ stranger }}")


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for relative, content in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def settings(home: Path, backend_env: dict[str, str]) -> Settings:
    """An unseeded store on each backend (import and export behave the same on both)."""
    return make_settings(home, **backend_env)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# -- import through the service --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_importing_a_folder_adds_then_leaves_unchanged_files_alone(
    service: TemplateService, tmp_path: Path
) -> None:
    folder = write(tmp_path / "lib", {"writing/greet.md": GREET, "writing/social/wave.md": WAVE, "notes.txt": "x"})
    first = await import_path(service, folder)
    assert (first.added, first.updated, first.unchanged, first.failed) == (["greet", "wave"], [], [], [])
    assert first.summary() == "added 2, updated 0, unchanged 0, failed 0"
    assert (await service.get("greet")).category == "writing"
    assert (await service.get("wave")).category == "writing/social"
    assert (await service.get("greet")).message == "imported from writing/greet.md"

    again = await import_path(service, folder)
    assert again.summary() == "added 0, updated 0, unchanged 2, failed 0"
    assert [v.version for v in await service.history("greet")] == [1]
    assert [v.version for v in await service.history("wave")] == [1]


@pytest.mark.anyio
async def test_a_changed_file_creates_exactly_one_version(service: TemplateService, tmp_path: Path) -> None:
    folder = write(tmp_path / "lib", {"greet.md": GREET, "wave.md": WAVE})
    await import_path(service, folder)
    changed = GREET.replace("Hello", "Hi")
    write(folder, {"greet.md": changed})
    report = await import_path(service, folder)
    assert (report.added, report.updated, report.unchanged) == ([], ["greet"], ["wave"])
    history = await service.history("greet")
    assert [(v.version, v.origin) for v in history] == [(1, "import"), (2, "import")]
    assert (await service.get("greet")).source == changed


@pytest.mark.anyio
async def test_invalid_files_are_reported_and_skipped_without_half_writing(
    service: TemplateService, tmp_path: Path
) -> None:
    await service.create(GREET, name="broken")
    folder = write(
        tmp_path / "lib",
        {
            "a.md": GREET.replace("Greets", "A greets"),
            "broken.md": BROKEN,
            "c.md": WAVE,
            "latin1.md": "---\ndescription: caf\xe9\n---\nHi\n".encode("latin-1"),
            "twin.md": GREET.replace("description:", "name: a\ndescription:", 1),
        },
    )
    report = await import_path(service, folder)
    assert report.summary() == "added 2, updated 0, unchanged 0, failed 3"
    assert report.added == ["a", "c"]
    assert report.failed == [
        (
            str(folder / "broken.md"),
            f"{folder / 'broken.md'}:8: arguments: variable(s) stranger used in the body but not declared: "
            "add them under 'arguments'",
        ),
        (str(folder / "latin1.md"), "the file is not UTF-8 text"),
        (str(folder / "twin.md"), "the name 'a' is already used by a.md in this import"),
    ]
    broken = await service.get("broken")
    assert (broken.version, broken.source) == (1, GREET)
    with pytest.raises(NotFoundError):
        await service.get("latin1")
    assert (await service.get("a")).source == GREET.replace("Greets", "A greets")


@pytest.mark.anyio
async def test_a_single_file_can_be_imported(service: TemplateService, tmp_path: Path) -> None:
    file = write(tmp_path / "lib", {"writing/greet.md": GREET}) / "writing" / "greet.md"
    assert (await import_path(service, file)).summary() == "added 1, updated 0, unchanged 0, failed 0"
    assert (await service.get("greet")).category == "writing"
    assert (await import_path(service, file)).summary() == "added 0, updated 0, unchanged 1, failed 0"


@pytest.mark.anyio
async def test_a_single_file_from_a_folder_that_is_no_category_name_has_no_category(
    service: TemplateService, tmp_path: Path
) -> None:
    file = write(tmp_path / "My Prompts", {"greet.md": GREET}) / "greet.md"
    assert (await import_path(service, file)).summary() == "added 1, updated 0, unchanged 0, failed 0"
    assert (await service.get("greet")).category is None


@pytest.mark.anyio
async def test_a_single_file_keeps_the_stored_category(service: TemplateService, tmp_path: Path) -> None:
    await import_path(service, write(tmp_path / "lib", {"greet.md": GREET, "writing/wave.md": WAVE}))
    out = tmp_path / "out"
    await export_to(service, out)
    moved = write(tmp_path / "elsewhere", {"wave.md": (out / "writing" / "wave.md").read_text()}) / "wave.md"
    for exported in (out / "greet.md", out / "writing" / "wave.md", moved):
        report = await import_path(service, exported)
        assert report.summary() == "added 0, updated 0, unchanged 1, failed 0", exported
    assert ((await service.get("greet")).category, (await service.get("wave")).category) == (None, "writing")
    assert [len(await service.history(name)) for name in ("greet", "wave")] == [1, 1]

    write(tmp_path / "elsewhere", {"wave.md": WAVE.replace("description:", "category: social\ndescription:", 1)})
    report = await import_path(service, tmp_path / "elsewhere" / "wave.md")
    assert report.updated == ["wave"]
    assert (await service.get("wave")).category == "social"  # the front matter still decides


@pytest.mark.anyio
async def test_a_single_partial_file_is_imported_as_a_partial(service: TemplateService, tmp_path: Path) -> None:
    partial = write(tmp_path / "lib", {"_partials/sign.md": "-- me"}) / "_partials" / "sign.md"
    assert (await import_path(service, partial)).added == ["_partials/sign.md"]
    await service.create(template_source(body='Hi {{ who }}\n{% include "_partials/sign.md" %}'), name="signed")
    assert (await service.render("signed", {"who": "Ada"})).text == "Hi Ada\n-- me"


@pytest.mark.anyio
async def test_hidden_folders_are_not_imported(service: TemplateService, tmp_path: Path) -> None:
    folder = write(tmp_path / "lib", {"greet.md": GREET, ".git/wave.md": WAVE, ".draft.md": WAVE})
    assert (await import_path(service, folder)).added == ["greet"]


@pytest.mark.anyio
async def test_partials_are_imported_first_and_follow_their_changes(service: TemplateService, tmp_path: Path) -> None:
    using = template_source(body='user:\nHello {{ who }}.\n{% include "_partials/sign.md" %}')
    folder = write(tmp_path / "lib", {"a-first.md": using, "_partials/sign.md": "-- {{ who }}'s friend"})
    report = await import_path(service, folder)
    assert report.added == ["_partials/sign.md", "a-first"]
    assert (await service.render("a-first", {"who": "Ada"})).text == "Hello Ada.\n-- Ada's friend"

    write(folder, {"_partials/sign.md": "-- yours"})
    report = await import_path(service, folder)
    assert (report.updated, report.unchanged) == (["_partials/sign.md"], ["a-first"])
    assert (await service.render("a-first", {"who": "Ada"})).text == "Hello Ada.\n-- yours"


@pytest.mark.anyio
async def test_importing_a_deleted_template_restores_it(service: TemplateService, tmp_path: Path) -> None:
    folder = write(tmp_path / "lib", {"greet.md": GREET})
    await import_path(service, folder)
    await service.delete("greet")
    await import_path(service, folder)
    stored = await service.get("greet")
    assert (stored.version, stored.deleted) == (1, False)


# -- export ----------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_export_writes_live_templates_where_import_finds_them(service: TemplateService, tmp_path: Path) -> None:
    source = write(
        tmp_path / "lib",
        {"writing/greet.md": GREET, "wave.md": WAVE, "_partials/sign.md": "-- me", "old.md": GREET},
    )
    await import_path(service, source)
    await service.update("greet", GREET.replace("Hello", "Hi"))
    await service.delete("old")

    out = tmp_path / "out"
    written = (await export_to(service, out)).written
    assert sorted(p.relative_to(out).as_posix() for p in written) == [
        "_partials/sign.md",
        "wave.md",
        "writing/greet.md",
    ]
    assert tree(out) == {
        "_partials/sign.md": b"-- me",
        "wave.md": WAVE.encode(),
        "writing/greet.md": GREET.replace("Hello", "Hi").encode(),
    }
    report = await import_path(service, out)
    assert report.summary() == "added 0, updated 0, unchanged 3, failed 0"


# -- the real CLI ------------------------------------------------------------------------------------------

NO_SEED = {"PBA_TUNNEL_SEED": "0"}


def test_cli_import_prints_the_summary_and_exits_1_when_a_file_failed(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = write(tmp_path / "lib", {"greet.md": GREET, "broken.md": BROKEN, "wave.md": WAVE})
    result = cli("import", str(folder), env=NO_SEED)
    assert result.returncode == 1
    assert result.stdout == "added 2, updated 0, unchanged 0, failed 1\n"
    assert result.stderr == (
        f"skipped {folder / 'broken.md'}: {folder / 'broken.md'}:8: arguments: variable(s) stranger used in the body "
        "but not declared: add them under 'arguments'\n"
    )

    write(
        folder, {"broken.md": GREET.replace("Hello", "Howdy").replace("description:", "name: broken\ndescription:", 1)}
    )
    result = cli("import", str(folder), "--json", env=NO_SEED)
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == {
        "added": ["broken"],
        "updated": [],
        "unchanged": ["greet", "wave"],
        "failed": [],
    }


def test_the_starter_library_round_trip_creates_no_version(cli, home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = len(list(STARTER.rglob("*.md")))
    assert files >= 31

    first = cli("import", str(STARTER), env=NO_SEED)
    assert (first.returncode, first.stderr) == (0, "")  # piped: no progress bar, no noise
    assert first.stdout == f"added {files}, updated 0, unchanged 0, failed 0\n"

    out = tmp_path / "export"
    exported = cli("export", str(out), env=NO_SEED)
    assert (exported.returncode, exported.stderr) == (0, "")
    assert exported.stdout == f"exported {files} files to {out}\n"
    assert tree(out) == tree(STARTER)

    again = cli("import", str(out), env=NO_SEED)
    assert (again.returncode, again.stderr) == (0, "")
    assert again.stdout == f"added 0, updated 0, unchanged {files}, failed 0\n"

    async def histories() -> set[int]:
        service = await TemplateService.open(make_settings(home))
        try:
            names = [t.name for t in (await service.list_templates(limit=1000, include_internal=True)).items]
            partials = [p.relative_to(STARTER).as_posix() for p in STARTER.rglob("*.md") if "_partials" in p.parts]
            assert len(names) == files - len(partials)  # every file but the partials is a prompt
            return {len(await service.history(name)) for name in [*names, *partials]}
        finally:
            await service.close()

    assert anyio.run(histories) == {1}
