"""The real ``pba-tunnel`` command in a subprocess: JSON output, rendered messages, one-line user errors,
a clean stdout, and the store commands."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from conftest import STARTER, make_settings, run_cli, template_source
from pba_tunnel.config import Limits
from pba_tunnel.rendering import Renderer
from pba_tunnel.startup import open_service
from pba_tunnel.store.migrate import HEAD_REVISION
from pba_tunnel.templates import parse_template

NO_SEED = {"PBA_TUNNEL_SEED": "0"}


def expected_code_review(arguments: dict[str, str]) -> list[dict[str, str]]:
    """code-review rendered in this process, straight from the starter files."""
    partial = (STARTER / "_partials" / "answer-format.md").read_text(encoding="utf-8")
    parsed = parse_template(
        (STARTER / "development" / "code-review.md").read_text(encoding="utf-8"),
        default_category="development",
        partials={"_partials/answer-format.md": partial}.get,
    )
    result = Renderer(Limits(), partials={"_partials/answer-format.md": partial}.get).render(parsed, arguments)
    return [{"role": m.role, "content": m.content} for m in result.messages]


@pytest.fixture(scope="module")
def seeded_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One seeded store shared by the read-only tests of this module."""
    home = tmp_path_factory.mktemp("seeded")

    async def seed() -> None:
        service = await open_service(make_settings(home, seed=True))
        await service.close()

    anyio.run(seed)
    return home


# -- JSON output -------------------------------------------------------------------------------------------


def test_list_show_and_history_print_parseable_json(seeded_home: Path) -> None:
    listed = run_cli("list", "--json", home=seeded_home)
    assert (listed.returncode, listed.stderr) == (0, "")
    items = json.loads(listed.stdout)
    assert len(items) >= 30
    assert [i["name"] for i in items] == sorted(i["name"] for i in items)
    review = next(i for i in items if i["name"] == "code-review")
    assert (review["category"], review["version"], review["deleted"]) == ("development", 1, False)
    assert [a["name"] for a in review["arguments"]] == ["language", "code", "context", "focus", "max_findings"]

    shown = run_cli("show", "code-review", "--json", home=seeded_home)
    assert (shown.returncode, shown.stderr) == (0, "")
    detail = json.loads(shown.stdout)
    assert detail["source"] == (STARTER / "development" / "code-review.md").read_text(encoding="utf-8")
    assert (detail["name"], detail["version"], detail["current_version"], detail["origin"]) == (
        "code-review",
        1,
        1,
        "seed",
    )

    history = run_cli("history", "code-review", "--json", home=seeded_home)
    assert (history.returncode, history.stderr) == (0, "")
    [entry] = json.loads(history.stdout)
    assert (entry["version"], entry["origin"], entry["current"]) == (1, "seed", True)
    assert entry["content_hash"] == detail["content_hash"]


def test_render_prints_the_messages(seeded_home: Path) -> None:
    result = run_cli("render", "code-review", "-a", "language=python", "-a", "code=x=1", home=seeded_home)
    assert (result.returncode, result.stderr) == (0, "")
    messages = expected_code_review({"language": "python", "code": "x=1"})
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "senior python engineer" in messages[0]["content"]
    assert "```\nx=1\n```" in messages[1]["content"]
    assert result.stdout == "\n".join(f"{m['role']}:\n{m['content']}\n" for m in messages)


def test_render_json_stdout_stays_json_while_logs_go_to_stderr(home: Path, tmp_path: Path) -> None:
    code = tmp_path / "snippet.py"
    code.write_text("def f():\n    return 1\n")
    result = run_cli(
        "render",
        "code-review",
        "-a",
        "language=python",
        "-a",
        f"code=@{code}",
        "-a",
        "focus=security",
        "--json",
        home=home,
        env={"PBA_TUNNEL_LOG_LEVEL": "debug"},
    )
    assert result.returncode == 0, result.stderr
    assert "seeded store" in result.stderr  # the first start logged, on stderr only
    rendered = json.loads(result.stdout)
    expected = expected_code_review({"language": "python", "code": code.read_text(), "focus": "security"})
    assert rendered["messages"] == expected
    assert (rendered["name"], rendered["version"]) == ("code-review", 1)
    assert rendered["text"] == "\n\n".join(m["content"] for m in expected)


# -- user errors -------------------------------------------------------------------------------------------

USER_ERRORS = {
    "missing-arguments": (
        ["render", "code-review", "-a", "focus=security"],
        {},
        "template 'code-review' needs argument(s) language, code: pass them, e.g. -a language=...",
    ),
    "bad-assignment": (["render", "code-review", "-a", "language"], {}, "-a expects key=value, got 'language'"),
    "unknown-template": (["render", "ghost"], {}, "no template named 'ghost': `pba-tunnel list` shows the names"),
    "unknown-version": (
        ["show", "code-review", "--version", "9"],
        {},
        "template 'code-review' has no version 9; its versions are 1..1",
    ),
    "output-limit": (
        ["render", "code-review", "-a", "language=go", "-a", "code=x"],
        {"PBA_TUNNEL_MAX_OUTPUT_BYTES": "100"},
        "rendering 'code-review' produced more than 100 bytes (PBA_TUNNEL_MAX_OUTPUT_BYTES)",
    ),
    "bad-setting": (["list"], {"PBA_TUNNEL_MAX_RANGE": "lots"}, "PBA_TUNNEL_MAX_RANGE='lots' is not a number"),
}


@pytest.mark.parametrize(("args", "env", "message"), USER_ERRORS.values(), ids=USER_ERRORS.keys())
def test_user_errors_are_one_line_on_stderr(
    seeded_home: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    result = run_cli(*args, home=seeded_home, env=env)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error: {message}\n"


def test_an_unknown_setting_is_an_error_listing_the_known_ones(seeded_home: Path) -> None:
    result = run_cli("list", home=seeded_home, env={"PBA_TUNNEL_COLOUR": "red"})
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: unknown setting(s) PBA_TUNNEL_COLOUR; known settings are: ")
    assert "PBA_TUNNEL_MAX_OUTPUT_BYTES" in result.stderr


def test_usage_errors_are_one_line_too(seeded_home: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = run_cli("import", str(missing), home=seeded_home)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: Invalid value for 'PATH': Path '{missing}' does not exist. (see '")
    assert result.stderr.endswith(" import --help')\n")


# -- commands that change the store ------------------------------------------------------------------------


def test_import_diff_rollback_delete_and_restore(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    file = tmp_path / "greet.md"
    file.write_text(template_source())
    assert cli("import", str(file), env=NO_SEED).stdout == "added 1, updated 0, unchanged 0, failed 0\n"
    file.write_text(template_source(body="user:\nHi {{ who }}!"))
    assert cli("import", str(file), env=NO_SEED).stdout == "added 0, updated 1, unchanged 0, failed 0\n"

    diff = cli("diff", "greet", "1", "2", env=NO_SEED)
    assert (diff.returncode, diff.stderr) == (0, "")
    assert diff.stdout == (
        "--- greet@1\n+++ greet@2\n@@ -5,4 +5,4 @@\n     description: Who to greet\n ---\n user:\n"
        "-Hello {{ who }}!\n+Hi {{ who }}!\n"
    )

    rollback = cli("rollback", "greet", "1", env=NO_SEED)
    assert (rollback.returncode, rollback.stderr) == (0, "")
    assert rollback.stdout == "greet is now at version 3 (same content as version 1)\n"

    deleted = cli("delete", "greet", env=NO_SEED)
    assert (deleted.returncode, deleted.stdout, deleted.stderr) == (0, "deleted greet\n", "")
    gone = cli("history", "greet", "--json", env=NO_SEED)  # history outlives a delete
    assert [v["version"] for v in json.loads(gone.stdout)] == [1, 2, 3]

    restored = cli("restore", "greet", env=NO_SEED)
    assert (restored.returncode, restored.stdout, restored.stderr) == (0, "restored greet\n", "")
    rendered = cli("render", "greet", "-a", "who=Ada", env=NO_SEED)
    assert (rendered.returncode, rendered.stdout, rendered.stderr) == (0, "user:\nHello Ada!\n", "")


# -- the store -----------------------------------------------------------------------------------------------


def test_db_path_prints_where_the_store_is(cli, home: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("db", "path")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"{home / 'pba-tunnel.db'}\n", "")
    assert not (home / "pba-tunnel.db").exists()  # printing the path creates nothing


def test_db_upgrade_migrates_once(cli, home: Path) -> None:  # type: ignore[no-untyped-def]
    first = cli("db", "upgrade")
    assert (first.returncode, first.stdout, first.stderr) == (0, "schema upgraded to the newest revision\n", "")
    second = cli("db", "upgrade")
    assert (second.returncode, second.stdout, second.stderr) == (0, "schema already up to date\n", "")

    import sqlite3

    with sqlite3.connect(home / "pba-tunnel.db") as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD_REVISION,)]
        assert connection.execute("SELECT count(*) FROM templates").fetchone() == (0,)  # upgrade does not seed


def test_search_takes_excluded_words_after_the_query_and_still_reads_options(seeded_home: Path) -> None:
    result = run_cli("search", "review", "-security", "--limit", "3", "--json", home=seeded_home)

    assert (result.returncode, result.stderr) == (0, "")
    found = json.loads(result.stdout)
    assert found["query"] == "review -security"
    names = [hit["name"] for hit in found["results"]]
    assert len(names) == 3
    assert "security-review" not in names
