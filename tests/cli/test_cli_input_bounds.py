"""The real CLI bounds what it reads and parses: ``-a k=@file`` / ``@-`` stop at the argument limit, and a
version too big to exist is a usage error, never a traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import run_cli, template_source

LIMIT = {"PBA_TUNNEL_MAX_ARGUMENT_BYTES": "1000", "PBA_TUNNEL_SEED": "0"}


def too_big(source: str) -> str:
    return (
        f"error: the value of who read from {source} is larger than the argument limit of 1,000 bytes "
        "(PBA_TUNNEL_MAX_ARGUMENT_BYTES)\n"
    )


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero on this platform")
def test_an_endless_file_is_refused_at_the_limit(home: Path) -> None:
    started = time.monotonic()
    result = run_cli("render", "greet", "-a", "who=@/dev/zero", home=home, env=LIMIT, timeout=30)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", too_big("/dev/zero"))
    assert time.monotonic() - started < 15  # the CLI's start-up, not a read of gigabytes


def test_stdin_beyond_the_limit_is_refused_and_up_to_it_is_rendered(home: Path, tmp_path: Path) -> None:
    file = tmp_path / "greet.md"
    file.write_text(template_source(), encoding="utf-8")
    assert run_cli("import", str(file), home=home, env=LIMIT).returncode == 0

    result = run_cli("render", "greet", "-a", "who=@-", home=home, env=LIMIT, input="x" * 1001)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", too_big("stdin"))

    result = run_cli("render", "greet", "-a", "who=@-", "--json", home=home, env=LIMIT, input="x" * 1000)
    assert (result.returncode, result.stderr) == (0, "")
    assert "x" * 1000 in result.stdout


VERSIONED = {
    "show": ["show", "greet", "--version", "{v}"],
    "render": ["render", "greet", "--version", "{v}"],
    "diff-from": ["diff", "greet", "{v}", "1"],
    "diff-to": ["diff", "greet", "1", "{v}"],
    "rollback": ["rollback", "greet", "{v}"],
}


@pytest.mark.parametrize("args", VERSIONED.values(), ids=VERSIONED.keys())
@pytest.mark.parametrize("version", ["99999999999999999999", "2147483648"])
def test_a_version_out_of_range_is_a_usage_error(home: Path, args: list[str], version: str) -> None:
    result = run_cli(*(a.format(v=version) for a in args), home=home, env={"PBA_TUNNEL_SEED": "0"})
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"{version} is not in the range 1<=x<=2147483647" in result.stderr
