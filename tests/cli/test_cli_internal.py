"""The CLI and internal templates: `list` hides them unless --internal, `search` never finds them, `show` does."""

from __future__ import annotations

import json

INSTRUCTIONS = ["enhance-clarity", "enhance-concise", "enhance-custom", "enhance-examples", "enhance-structure"]


def test_list_shows_internal_templates_only_when_asked(cli) -> None:  # type: ignore[no-untyped-def]
    listed = cli("list", "--json")
    assert listed.returncode == 0, listed.stderr
    names = [t["name"] for t in json.loads(listed.stdout)]
    assert len(names) == 35
    assert not set(INSTRUCTIONS) & set(names)

    every = cli("list", "--internal", "--category", "enhance")
    assert every.returncode == 0, every.stderr
    lines = every.stdout.splitlines()
    assert [line.split()[0] for line in lines] == INSTRUCTIONS
    assert all(line.endswith(" (internal)") for line in lines)


def test_search_leaves_internal_templates_out_but_show_reads_them(cli) -> None:  # type: ignore[no-untyped-def]
    found = cli("search", "enhance clarity", "--json")
    assert found.returncode == 0, found.stderr
    assert [hit["name"] for hit in json.loads(found.stdout)["results"] if hit["name"].startswith("enhance-")] == []
    shown = cli("show", "enhance-clarity", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["internal"] is True
