"""The wheel carries the starter library and the migrations, so an installed copy seeds like a checkout."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from conftest import REPO, STARTER


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(out), "--quiet"], cwd=REPO, check=True, capture_output=True
    )
    (built,) = out.glob("*.whl")
    return built


def test_the_wheel_ships_every_starter_template(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"pba_tunnel/_starter/{p.relative_to(STARTER).as_posix()}" for p in STARTER.rglob("*.md")}
    assert len(expected) >= 31
    assert expected <= names


def test_the_wheel_ships_the_migrations_and_the_console_script(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    assert "pba_tunnel/store/migrations/env.py" in names
    assert "pba_tunnel/store/migrations/versions/0001_initial.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "pba-tunnel = pba_tunnel.cli:main" in archive.read(entry_points).decode()


def test_the_wheel_ships_no_bench(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if "bench" in n.lower() or n.startswith("tests/")]


def test_the_wheel_ships_the_web_page_assets(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    web = REPO / "src" / "pba_tunnel" / "web"
    expected = {f"pba_tunnel/web/{p.relative_to(web).as_posix()}" for p in web.rglob("*.*") if p.suffix != ".pyc"}
    assert {"pba_tunnel/web/static/app.js", "pba_tunnel/web/templates/base.html"} <= expected
    assert expected <= names
