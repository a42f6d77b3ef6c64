"""Start-up errors a new user meets: each is one line naming the cause and the remedy, never a traceback.

Each case runs the real command; the cases of a test run side by side (they share nothing), so the whole
module costs about as much as its slowest commands.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conftest import CliResult, run_cli
from process_support import free_port

NO_SEED = {"PBA_TUNNEL_SEED": "0"}  # a refused start must not need the starter library; seeding only costs time
Case = tuple[Sequence[str], Mapping[str, str]]


def run_side_by_side(home: Path, cases: Mapping[str, Case]) -> dict[str, CliResult]:
    """Run every case's command at once; their results by case name."""
    with ThreadPoolExecutor(max_workers=len(cases)) as pool:
        futures = {
            name: pool.submit(run_cli, *args, home=home, env={**NO_SEED, **env}) for name, (args, env) in cases.items()
        }
        return {name: future.result() for name, future in futures.items()}


def assert_one_line_errors(results: Mapping[str, CliResult], expected: Mapping[str, tuple[int, str]]) -> None:
    """Each result exited with its code and printed exactly its ``error:`` line, nothing else."""
    got = {name: (r.returncode, r.stdout + r.stderr) for name, r in results.items()}
    assert got == {name: (code, f"error: {message}\n") for name, (code, message) in expected.items()}


def test_a_port_in_use_is_one_line_and_the_store_is_not_touched(home: Path) -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        results = run_side_by_side(
            home,
            {
                "serve": (["serve", "--transport", "http", "--port", str(port)], {}),
                "ui": (["ui", "--no-browser", "--port", str(port)], {}),
                "workers": (["serve", "--transport", "http", "--stateless", "--workers", "2", "--port", str(port)], {}),
            },
        )
    in_use = f"port {port} on 127.0.0.1 is in use (another pba-tunnel?): pass --port"
    ui = results.pop("ui")
    url = f"http://127.0.0.1:{port}/"
    assert (ui.returncode, ui.stdout) == (1, "")
    assert ui.stderr == f"pba-tunnel web page at {url} (MCP at {url}mcp); press Ctrl+C to stop\nerror: {in_use}\n"
    assert_one_line_errors(results, {"serve": (1, in_use), "workers": (1, in_use)})
    assert list(home.iterdir()) == []  # refused before the store was created


def test_an_export_folder_that_cannot_be_created_is_named_with_the_reason(home: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "file.md"
    a_file.write_text("not a folder\n", encoding="utf-8")
    cases: dict[str, Case] = {"under a file": (["export", str(a_file / "sub")], {})}
    expected = {"under a file": (1, f"cannot create the folder {a_file / 'sub'}: {a_file} is a file, not a folder")}
    if Path("/dev/full").exists():  # a device where the folder would be (Linux): not a regular file
        cases["a device"] = (["export", "/dev/full"], {})
        expected["a device"] = (1, "cannot create the folder /dev/full: /dev/full is not a folder")
    results = run_side_by_side(home, cases)

    assert_one_line_errors(
        results, {name: (code, f"{text}; choose another folder") for name, (code, text) in expected.items()}
    )
    assert a_file.read_text(encoding="utf-8") == "not a folder\n"


def test_a_store_folder_that_cannot_be_created_names_the_setting_to_change(home: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "passwd"
    a_file.write_text("root:x:0:0\n", encoding="utf-8")
    results = run_side_by_side(
        home,
        {
            "variable": (["list"], {"PBA_TUNNEL_HOME": str(a_file)}),
        },
    )

    remedy = (
        "set PBA_TUNNEL_HOME (or --home) to a folder you can write, or point PBA_TUNNEL_DATABASE_URL "
        "(--database-url) at another store"
    )
    because = f"{a_file} is a file, not a folder"
    assert_one_line_errors(
        results,
        {
            "variable": (1, f"cannot create the store's folder {a_file}: {because}; {remedy}"),
        },
    )


def test_database_urls_get_the_async_driver_or_are_refused_before_serving(home: Path, tmp_path: Path) -> None:
    plain_sqlite = tmp_path / "plain.db"
    url_setting = "PBA_TUNNEL_DATABASE_URL / --database-url"
    results = run_side_by_side(
        home,
        {
            "sqlite:///": (["--database-url", f"sqlite:///{plain_sqlite.as_posix()}", "db", "path"], {}),
            "psycopg2": (["--database-url", "postgresql+psycopg2://pba:secret@127.0.0.1/pba", "list"], {}),
            "serve pysqlite": (
                ["serve", "--transport", "http", "--port", "0"],
                {"PBA_TUNNEL_DATABASE_URL": f"sqlite+pysqlite:///{plain_sqlite.as_posix()}"},
            ),
        },
    )

    rewritten = results.pop("sqlite:///")  # read as sqlite+aiosqlite:///, the store's own form
    assert (rewritten.returncode, rewritten.stdout, rewritten.stderr) == (0, f"{plain_sqlite}\n", "")
    assert_one_line_errors(
        results,
        {
            "psycopg2": (
                1,
                f"{url_setting} uses the driver 'postgresql+psycopg2', which the store cannot use: use "
                "postgresql+asyncpg://USER:PASSWORD@HOST/DATABASE",
            ),
            "serve pysqlite": (
                1,
                f"{url_setting} uses the driver 'sqlite+pysqlite', which the store cannot use: use "
                "sqlite+aiosqlite:///PATH",
            ),
        },
    )


def test_copying_from_a_missing_sqlite_file_creates_nothing(home: Path, tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "doesnotexist.db"
    results = run_side_by_side(
        home, {"copy": (["db", "copy", "--from", f"sqlite+aiosqlite:///{missing.as_posix()}"], {})}
    )

    assert_one_line_errors(
        results, {"copy": (1, f"no store at {missing}: check the URL (the source of a copy must be an existing store)")}
    )
    assert not missing.parent.exists()


def test_a_blank_token_is_refused_at_start(home: Path) -> None:
    serve = ["serve", "--transport", "http", "--host", "0.0.0.0", "--port", "0"]
    results = run_side_by_side(
        home,
        {
            "option": ([*serve, "--auth-token", " "], {}),
            "variable": (serve, {"PBA_TUNNEL_AUTH_TOKEN": " \t"}),
        },
    )

    blank = "is blank: no client could authenticate; give a token of visible characters"
    assert_one_line_errors(
        results,
        {
            "option": (1, f"--auth-token {blank}"),
            "variable": (1, f"PBA_TUNNEL_AUTH_TOKEN {blank}"),
        },
    )


def test_periods_are_read_alike_and_say_their_maximum(home: Path) -> None:
    results = run_side_by_side(
        home,
        {
            "stats": (["stats", "--since", "36500d"], {}),
            "token": (["token", "create", "ci", "--scope", "read", "--expires", "999999w"], {}),
        },
    )

    see = " (see 'python -m pba_tunnel stats --help')"  # how run_cli starts the command
    assert_one_line_errors(
        results,
        {
            "stats": (2, f"Invalid value for '--since': '36500d' is too long a period: at most 3650d (10 years){see}"),
            "token": (1, "'999999w' is too long a lifetime: at most 3650d (10 years)"),
        },
    )
