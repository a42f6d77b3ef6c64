"""What a command imports: each loads only what it uses, since a command's start-up is mostly imports.

The heavy packages (SQLAlchemy for the store, Jinja2 and YAML for rendering and parsing, the MCP SDK and uvicorn
for serving) are each imported only by the commands that need them. Checked by module name, never by time.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import run_cli

IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", re.MULTILINE)
STORE = {"sqlalchemy", "sqlmodel", "aiosqlite", "alembic"}
RENDERING = {"jinja2", "yaml"}
SERVING = {"mcp", "uvicorn", "starlette"}


def top_level_imports(home: Path, *args: str) -> set[str]:
    """The top-level packages ``pba-tunnel ARGS`` imported (from Python's own import-time report)."""
    result = run_cli(*args, home=home, env={"PYTHONPROFILEIMPORTTIME": "1", "PBA_TUNNEL_SEED": "0"})
    assert result.returncode == 0, result.stderr[-2000:]
    return {name.split(".")[0] for name in IMPORTED.findall(result.stderr)}


@pytest.mark.parametrize("args", [("--help",), ("serve", "--help")])
def test_help_imports_neither_the_store_nor_rendering_nor_the_sdk(home: Path, args: tuple[str, ...]) -> None:
    imported = top_level_imports(home, *args)

    assert imported & (STORE | RENDERING | SERVING) == set()


def test_list_imports_the_store_but_not_rendering_or_the_sdk(home: Path) -> None:
    imported = top_level_imports(home, "list")

    assert "sqlalchemy" in imported
    assert imported & (RENDERING | SERVING) == set()


def test_rendering_a_stored_template_imports_jinja2_but_not_yaml(home: Path) -> None:
    # A stored version is rebuilt from the facts kept beside its source: its YAML is never read again.
    folder = home / "to-import"
    folder.mkdir(parents=True)
    (folder / "greeting.md").write_text(GREETING, encoding="utf-8")
    imported_files = run_cli("import", str(folder), home=home, env={"PBA_TUNNEL_SEED": "0"})
    assert imported_files.returncode == 0, imported_files.stderr[-2000:]

    imported = top_level_imports(home, "render", "greeting", "-a", "who=Ada")

    assert "jinja2" in imported
    assert "yaml" not in imported


GREETING = """---
name: greeting
description: Greet someone
arguments:
  - name: who
    description: Who to greet
---
Hello {{ who }}!
"""
