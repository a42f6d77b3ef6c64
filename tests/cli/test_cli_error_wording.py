"""``pba-tunnel`` in a subprocess: a template file's mistakes and the sandbox's limits, worded for a person."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli

GREET = """---
description: Greets someone, several times.
arguments:
  - name: who
    description: Who to greet
  - name: times
    description: How often
    type: integer
---
{% for i in range(times) %}Hello {{ who }}! {% endfor %}
"""
AUDIT = "---\ndescription: Audits a change.\n---\nAudit it.\n"


def test_a_bad_category_folder_and_a_count_beyond_the_sandbox_are_worded(home: Path, tmp_path: Path) -> None:
    (tmp_path / "lib" / "ok").mkdir(parents=True)
    (tmp_path / "lib" / "Security").mkdir()
    (tmp_path / "lib" / "ok" / "greet.md").write_text(GREET, encoding="utf-8")
    (tmp_path / "lib" / "Security" / "audit.md").write_text(AUDIT, encoding="utf-8")
    env = {"PBA_TUNNEL_SEED": "0", "PBA_TUNNEL_MAX_RANGE": "5000", "PBA_TUNNEL_MAX_OUTPUT_BYTES": "20000"}

    imported = run_cli("import", "--json", str(tmp_path / "lib"), home=home, env=env)

    assert imported.returncode == 1
    report = json.loads(imported.stdout)
    assert report["added"] == ["greet"]
    [failed] = report["failed"]
    # the category came from the folder, not from a line of the file: no line number, and words, not a regex
    assert failed["reason"].endswith(
        "audit.md: category: 'Security' is not a valid category: a category uses lowercase letters, digits, '-', "
        "'_' and '/', starting with a letter or digit"
    )

    rendered = run_cli("render", "greet", "-a", "who=Bob", "-a", "times=1000000000", home=home, env=env)

    assert (rendered.returncode, rendered.stdout) == (1, "")
    assert rendered.stderr == (
        "error: a numeric argument of 1,000,000,000 exceeds the sandbox's limit of 20,000 (the larger of "
        "PBA_TUNNEL_MAX_RANGE, now 5,000, and PBA_TUNNEL_MAX_OUTPUT_BYTES, now 20,000)\n"
    )
