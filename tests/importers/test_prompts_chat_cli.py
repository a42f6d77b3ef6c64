"""``pba-tunnel import`` on prompts.chat CSV files through the real CLI: detection by header, ``--format``,
per-row failures on stderr with exit code 1, the JSON report, and the imported templates in use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import REPO, CliResult, run_cli

CORPUS = REPO / "tests" / "data" / "prompts-chat.csv"
ROWS = "act,prompt,for_devs,type,contributor\n"
GOOD = 'Poet,"Write a poem about ${topic:the sea}.",FALSE,TEXT,someone\n'
EMPTY = "Empty,,FALSE,TEXT,someone\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.slow
def test_the_corpus_imports_through_the_cli_into_a_seeded_store(home: Path) -> None:
    result = run_cli("import", str(CORPUS), home=home, timeout=300)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.strip().splitlines()[-1] == "added 948, updated 0, unchanged 0, failed 0"

    listed = run_cli("list", "--category", "prompts-chat/image", "--json", home=home)
    assert len(json.loads(listed.stdout)) == 22
    rendered = run_cli("render", "narrative-point-of-view-transformer", "--json", home=home)
    assert rendered.returncode == 0, rendered.stderr
    assert "{{input_text}}: The original text to convert." in json.loads(rendered.stdout)["text"]


def test_a_csv_is_detected_and_bad_rows_fail_the_command(home: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "mine.csv", ROWS + GOOD + EMPTY)
    result = run_cli("import", str(path), home=home)
    assert result.returncode == 1
    assert result.stderr == f"skipped {path}:3: the prompt column is empty\n"
    assert result.stdout == "added 1, updated 0, unchanged 0, failed 1\n"
    assert run_cli("render", "poet", home=home).stdout == "user:\nWrite a poem about the sea.\n"
    assert run_cli("render", "poet", "-a", "topic=rain", home=home).stdout == "user:\nWrite a poem about rain.\n"

    again = run_cli("import", str(path), "--json", home=home)
    report = json.loads(again.stdout)
    assert (report["added"], report["unchanged"]) == ([], ["poet"])
    assert report["failed"] == [{"path": f"{path}:3", "reason": "the prompt column is empty"}]


def test_format_can_be_forced_and_other_csv_files_are_refused(home: Path, tmp_path: Path) -> None:
    text_file = write(tmp_path / "prompts.txt", ROWS + GOOD)
    forced: CliResult = run_cli("import", "--format", "prompts-chat", str(text_file), home=home)
    assert (forced.returncode, forced.stdout) == (0, "added 1, updated 0, unchanged 0, failed 0\n")

    as_template = run_cli("import", "--format", "templates", str(write(tmp_path / "p.csv", ROWS + GOOD)), home=home)
    assert as_template.returncode == 1
    assert "a template starts with a line '---'" in as_template.stderr

    other = write(tmp_path / "other.csv", "id,value\n1,2\n")
    refused = run_cli("import", str(other), home=home)
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"error: {other} is a CSV file but not a prompts.chat export")
    bad_choice = run_cli("import", "--format", "xml", str(other), home=home)
    assert bad_choice.returncode == 2
    assert "'xml' is not one of" in bad_choice.stderr
