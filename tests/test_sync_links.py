"""Import and export never follow a symbolic link out of their folder; export writes each file whole."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from watchfiles import Change

from conftest import template_source
from pba_tunnel.errors import NotFoundError
from pba_tunnel.service import TemplateService
from pba_tunnel.sync import export_to, import_path
from pba_tunnel.watch import FolderWatcher

GREET = template_source()
WAVE = template_source(description="Waves.", body="user:\nWave at {{ who }}.")
SECRET = template_source(description="Outside the folder.", body="user:\nThe secret is {{ who }}.")
OUTSIDE_LINK = "a symbolic link leading outside {root}: not followed"


def link(path: Path, target: Path) -> None:
    """A symbolic link, or skip where the platform does not let this user make one (Windows without rights)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.symlink_to(target, target_is_directory=target.is_dir())
    except OSError as exc:
        pytest.skip(f"cannot create symbolic links here: {exc}")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def files_under(root: Path) -> dict[str, str]:
    """Every regular file (links not followed) under ``root``, with its text."""
    found = {}
    for top, _folders, names in os.walk(root):
        for name in names:
            path = Path(top) / name
            if not path.is_symlink():
                found[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
    return found


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the one imported or exported, holding what a link must not reach."""
    folder = tmp_path / "outside"
    write(folder / "secret.md", SECRET)
    write(folder / "more" / "wave.md", WAVE)
    return folder


@pytest.mark.anyio
async def test_import_skips_links_leading_outside_with_a_message(
    service: TemplateService, tmp_path: Path, outside: Path
) -> None:
    lib = tmp_path / "lib"
    write(lib / "greet.md", GREET)
    link(lib / "secret.md", outside / "secret.md")
    link(lib / "writing" / "more", outside / "more")
    link(lib / "escape.md", lib / ".." / "outside" / "secret.md")  # a relative way out
    # A link that stays inside the folder is still read.
    write(lib / "pieces" / "sign.txt", "-- me")
    link(lib / "_partials" / "sign.md", lib / "pieces" / "sign.txt")

    report = await import_path(service, lib)

    assert (report.added, report.updated, report.unchanged) == (["_partials/sign.md", "greet"], [], [])
    reason = OUTSIDE_LINK.format(root=lib)
    assert sorted(report.failed) == [
        (str(lib / "escape.md"), reason),
        (str(lib / "secret.md"), reason),
        (str(lib / "writing" / "more"), reason),
    ]
    for name in ("secret", "wave", "escape"):
        with pytest.raises(NotFoundError):
            await service.get(name, include_deleted=True)


@pytest.mark.anyio
async def test_a_watched_folder_does_not_follow_a_link_leading_outside(
    service: TemplateService, tmp_path: Path, outside: Path
) -> None:
    lib = tmp_path / "lib"
    write(lib / "greet.md", GREET)
    watcher = FolderWatcher(service, lib)
    await watcher.sync_all()
    link(lib / "secret.md", outside / "secret.md")
    await watcher.apply({(Change.added, str(lib.resolve() / "secret.md"))})
    await watcher.sync_all()
    with pytest.raises(NotFoundError):
        await service.get("secret", include_deleted=True)
    assert (await service.get("greet")).version == 1


@pytest.mark.anyio
async def test_export_refuses_to_write_through_links_leading_outside(
    service: TemplateService, tmp_path: Path, outside: Path
) -> None:
    await service.create(GREET, name="greet")
    await service.create(WAVE, name="wave", category="more")
    await service.create(template_source(description="Kept."), name="kept")
    before = files_under(outside)
    out = tmp_path / "out"
    link(out / "greet.md", outside / "secret.md")  # a linked file
    link(out / "more", outside / "more")  # a linked sub-folder
    write(out / "elsewhere.md", "untouched")
    link(out / "kept.md", out / "elsewhere.md")  # a link inside: replaced by the file, not followed

    report = await export_to(service, out)

    reason = f"a symbolic link leading outside {out}: not written through"
    assert sorted(report.failed) == [(str(out / "greet.md"), reason), (str(out / "more" / "wave.md"), reason)]
    assert report.written == [out / "kept.md"]
    assert files_under(outside) == before  # nothing outside changed or added
    assert not (out / "kept.md").is_symlink()
    assert files_under(out) == {"elsewhere.md": "untouched", "kept.md": (await service.get("kept")).source}


@pytest.mark.anyio
async def test_export_replaces_files_whole_leaving_no_temporary_file(service: TemplateService, tmp_path: Path) -> None:
    await service.create(GREET, name="greet", category="writing")
    out = tmp_path / "out"
    write(out / "writing" / "greet.md", "an older export, longer than the new one " * 100)
    report = await export_to(service, out)
    assert (report.written, report.failed) == ([out / "writing" / "greet.md"], [])
    assert files_under(out) == {"writing/greet.md": GREET}


# -- the real CLI ------------------------------------------------------------------------------------------

NO_SEED = {"PBA_TUNNEL_SEED": "0"}


def test_cli_import_and_export_report_each_refused_link(cli, tmp_path: Path, outside: Path) -> None:  # type: ignore[no-untyped-def]
    lib = tmp_path / "lib"
    write(lib / "greet.md", GREET)
    link(lib / "secret.md", outside / "secret.md")
    imported = cli("import", str(lib), env=NO_SEED)
    assert imported.returncode == 1
    assert imported.stdout == "added 1, updated 0, unchanged 0, failed 1\n"
    assert imported.stderr == f"skipped {lib / 'secret.md'}: {OUTSIDE_LINK.format(root=lib)}\n"

    validated = cli("validate", str(lib), env=NO_SEED)
    assert validated.returncode == 1
    assert validated.stderr == f"invalid: {lib / 'secret.md'}: {OUTSIDE_LINK.format(root=lib)}\n"

    out = tmp_path / "out"
    link(out / "greet.md", outside / "secret.md")
    exported = cli("export", str(out), env=NO_SEED)
    assert exported.returncode == 1
    assert exported.stdout == f"exported 0 files to {out}, refused 1\n"
    assert exported.stderr == (
        f"refused {out / 'greet.md'}: a symbolic link leading outside {out}: not written through\n"
    )
    assert (outside / "secret.md").read_text(encoding="utf-8") == SECRET
