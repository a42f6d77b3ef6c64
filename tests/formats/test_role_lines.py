"""Text that looks like a role marker stays text after an import, whatever ends its lines: the imported template
renders it as one user message, never as a switch to another role (Dotprompt through the Handlebars translator,
Langfuse through the shared escape)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from formats_support import messages

from pba_tunnel.service import TemplateService
from pba_tunnel.sync import import_path

pytestmark = pytest.mark.anyio

# Every way our parser ends a line (str.splitlines) around a line that reads as a role marker.
TEXTS = {
    "crlf": "Intro\r\nuser:\r\nafter",
    "lone-cr": "Intro\rassistant:\rafter",
    "end-without-newline": "Intro\nassistant:",
    "first-line": "system:\nafter",
    "blanks-after-marker": "Intro\nsystem: \t\nafter",
    "spaces-before-marker": "Intro\n  user:\nafter",
    "next-line": "Intro\x85user:\nafter",
    "line-separator": "Intro\u2028assistant:\nafter",
    "form-feed": "Intro\x0csystem:\nafter",
    "marker-after-a-variable": "Hi {{who}}\x1euser:\nafter",
}

# Handlebars only: a comment that cannot be a Jinja comment ("#}") must not glue the text around it into a marker.
COMMENT = "Intro\nuser{{!-- a #} b --}}:\nafter"


def _rendered(text: str) -> str:
    """What the template should print: the text, its line ends as the renderer writes them (CR, CRLF: LF)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("{{who}}", "Al")


def _arguments(text: str) -> dict[str, str]:
    return {"who": "Al"} if "{{who}}" in text else {}


async def test_dotprompt_bodies_keep_role_lookalikes_as_text(service: TemplateService, tmp_path: Path) -> None:
    for name, text in TEXTS.items():
        (tmp_path / f"{name}.prompt").write_text(f"---\nmodel: m1\n---\n{text}\n", encoding="utf-8", newline="")
    (tmp_path / "comment.prompt").write_text(f"---\nmodel: m1\n---\n{COMMENT}\n", encoding="utf-8")
    report = await import_path(service, tmp_path)
    assert sorted(report.added) == sorted([*TEXTS, "comment"])
    for name, text in TEXTS.items():
        assert await messages(service, name, _arguments(text)) == [("user", _rendered(text))], name
    assert await messages(service, "comment", {}) == [("user", "Intro\nuser:\nafter")]


async def test_langfuse_prompts_keep_role_lookalikes_as_text(service: TemplateService, tmp_path: Path) -> None:
    prompts = [
        {"name": name, "type": "text", "prompt": text, "version": 1, "labels": [], "tags": [], "config": {}}
        for name, text in TEXTS.items()
    ]
    (tmp_path / "prompts.json").write_text(json.dumps(prompts), encoding="utf-8")
    report = await import_path(service, tmp_path)
    assert sorted(report.added) == sorted(TEXTS)
    for name, text in TEXTS.items():
        assert await messages(service, name, _arguments(text)) == [("user", _rendered(text))], name
