"""``pba-tunnel import``/``export`` with other tools' formats through the real CLI: detection, the lossiness
report (text and JSON), ``--strict`` (exit 3, stable code, nothing written) and hostile files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from formats_support import DATA

from conftest import CliResult, run_cli


def cli(*args: str, home: Path) -> CliResult:
    """The real CLI on an unseeded store (the starter library is not what these tests are about)."""
    return run_cli(*args, home=home, env={"PBA_TUNNEL_SEED": "0"})


ALIAS_BOMB = (
    "---\nname: bomb\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))
    + "---\nuser:\nhi\n"
)


@pytest.mark.slow
def test_import_reports_losses_and_strict_refuses_them(home: Path, tmp_path: Path) -> None:
    strict = cli("import", str(DATA / "langfuse"), "--strict", "--json", home=home)
    assert strict.returncode == 3
    assert json.loads(strict.stdout) == {
        "error": {"code": "lossy_conversion", "message": "2 lossy conversion(s) in this import; nothing was written",
                  "lossy": 2}
    }  # fmt: skip
    assert "drop --strict" in strict.stderr

    result = cli("import", str(DATA / "langfuse"), home=home)
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert "lossy: movie-critic-chat: prompt: dropped: message placeholder 'chat_history' has no equivalent" in lines
    assert lines[-1] == "added 6, updated 0, unchanged 0, failed 0"  # so the strict run wrote nothing

    out = tmp_path / "out"
    exported = cli("export", str(out), "--format", "dotprompt", "--json", home=home)
    assert exported.returncode == 0, exported.stderr
    report = json.loads(exported.stdout)
    assert sorted(Path(p).name for p in report["written"]) == [
        "_prompt-name-v1.prompt", "book-review.prompt", "movie-critic-chat.prompt", "movie-critic.prompt",
        "movie-review.prompt", "prompt-name.prompt",
    ]  # fmt: skip
    assert all(set(loss) == {"template", "field", "action", "detail", "lossy"} for loss in report["losses"])
    assert cli("import", str(DATA / "prompty"), home=home).returncode == 0
    # Langfuse prompts have no logic: the {% if %} of Prompty's summarize example cannot go there.
    refused = cli("export", str(tmp_path / "strict"), "--format", "langfuse", "--strict", home=home)
    assert refused.returncode == 3
    assert refused.stderr.startswith("error: lossy_conversion: ")
    assert not (tmp_path / "strict").exists()


def test_hostile_files_fail_alone_with_the_native_limits(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bomb.prompty").write_text(ALIAS_BOMB, encoding="utf-8")
    (folder / "huge.prompty").write_text("---\nname: huge\n---\nuser:\n" + "x" * 200_000, encoding="utf-8")
    (folder / "escape.prompty").write_text(
        "---\nname: escape\n---\nuser:\n{{ ''.__class__.__mro__[1].__subclasses__() }}\n", encoding="utf-8"
    )
    (folder / "fine.prompty").write_text("---\nname: fine\n---\nuser:\nHello\n", encoding="utf-8")
    result = cli("import", str(folder), "--json", home=home)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert sorted(report["added"]) == ["escape", "fine"]
    reasons = {Path(f["path"]).name: f["reason"] for f in report["failed"]}
    assert reasons["bomb.prompty"].startswith("front matter: the YAML would be larger than 204,800 characters")
    assert reasons["huge.prompty"] == "the file is 200,025 bytes; the limit is 102,400 (PBA_TUNNEL_MAX_SOURCE_BYTES)"
    sandboxed = cli("render", "escape", home=home)
    assert sandboxed.returncode == 1
    assert "the sandbox forbids" in sandboxed.stderr


@pytest.mark.slow
def test_langfuse_labels_reach_the_history_and_a_reimport_moves_none(home: Path) -> None:
    critic = str(DATA / "langfuse" / "movie-critic.json")
    first = cli("import", critic, home=home)
    assert (first.returncode, first.stderr) == (0, "")
    assert first.stdout.splitlines() == [
        "label: movie-critic: production -> v2",
        "label: movie-critic: staging -> v2",
        "added 1, updated 0, unchanged 0, failed 0",
    ]
    again = cli("import", critic, "--json", home=home)
    assert (json.loads(again.stdout)["labels"], json.loads(again.stdout)["unchanged"]) == ([], ["movie-critic"])
    history = cli("history", "movie-critic", home=home).stdout.splitlines()
    assert history[1].startswith("* v2 ")
    assert history[1].endswith("  [production, staging]")
    assert [line.split("  ")[1] + line.rsplit("  ", 1)[1] for line in history[2:]] == [
        "label production: -> 2by cli",
        "label staging: -> 2by cli",
    ]  # the re-import recorded no move


def test_validate_reads_langfuse_files_without_a_store(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "movie-critic.json").write_bytes((DATA / "langfuse" / "movie-critic-chat.json").read_bytes())
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    result = cli("validate", str(folder), "--json", home=home)
    assert result.returncode == 1
    entries = {Path(e["path"]).name: e for e in json.loads(result.stdout)}
    assert entries["broken.json"]["ok"] is False
    assert entries["broken.json"]["error"].startswith(f"{folder / 'broken.json'}: {folder / 'broken.json'} is not JSON")
    assert entries["in#movie-critic-chat"]["ok"] is True
    assert entries["in#movie-critic-chat"]["warnings"] == [
        "movie-critic-chat: prompt: dropped: message placeholder 'chat_history' has no equivalent"
    ]
    assert not (home / "pba-tunnel.db").exists()  # no store was opened
