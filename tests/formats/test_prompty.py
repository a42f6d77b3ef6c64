"""Prompty files from Microsoft's repository: imported, rendered as Prompty's spec says, exported back and
re-imported unchanged; a native template survives native -> Prompty -> native."""

from __future__ import annotations

from pathlib import Path

import pytest
from formats_support import DATA, export_and_reimport, messages, sources

from pba_tunnel.errors import LossyConversionError
from pba_tunnel.formats.prompty import export_prompty, import_prompty
from pba_tunnel.formats.transfer import export_foreign
from pba_tunnel.service import TemplateService
from pba_tunnel.sync import import_path

pytestmark = pytest.mark.anyio
FOLDER = DATA / "prompty"


async def test_the_examples_import_with_their_fields_and_a_report(service: TemplateService) -> None:
    report = await import_path(service, FOLDER)
    assert sorted(report.added) == [
        "basic-prompt", "shakespearean-writing-prompty", "structured-output", "summarize", "threaded-chat",
    ]  # fmt: skip
    assert report.failed == []
    lossy = [(x.template, x.field, x.action) for x in report.losses if x.lossy]  # type: ignore[attr-defined]
    assert lossy == [("threaded-chat", "inputs.conversation.kind", "approximated")]

    _stored, basic = await service.current("basic-prompt")
    assert basic.spec.model is not None
    assert basic.spec.model.model_dump(exclude_none=True) == {"model": "gpt-4", "temperature": 0.7, "max_tokens": 1000}
    assert basic.spec.metadata["authors"] == ["testauthor"]
    assert basic.spec.metadata["prompty"]["model"]["connection"]["apiKey"] == "${env:AZURE_OPENAI_API_KEY}"
    assert [(a.name, a.default) for a in basic.spec.arguments] == [
        ("firstName", "Jane"), ("lastName", "Doe"), ("question", "What is the meaning of life?"),
    ]  # fmt: skip
    _stored, legacy = await service.current("shakespearean-writing-prompty")
    assert legacy.spec.metadata["prompty"]["name"] == "Shakespearean Writing Prompty"
    assert legacy.spec.metadata["prompty"]["sample"] == {
        "question": "Please write a short text inviting friends to a Game Night."
    }
    assert legacy.spec.metadata["authors"] == ["Bethany Jepchumba"]


async def test_renders_match_prompty_semantics(service: TemplateService) -> None:
    await import_path(service, FOLDER)
    assert await messages(
        service, "basic-prompt", {"firstName": "Ada", "lastName": "Lovelace", "question": "Why?"}
    ) == [
        (
            "system",
            "You are an AI assistant who helps people find information.\n\n# Customer\n"
            "You are helping Ada Lovelace to find answers to their questions.",
        ),
        ("user", "Why?"),
    ]
    # Jinja's default whitespace (trim_blocks off): the newlines around the if tags stay.
    summary = "You are a summarization assistant. Summarize the following text concisely."
    assert await messages(service, "summarize", {"text": "Long text", "context": "ctx"}) == [
        ("system", f"{summary}\n\n\nContext: ctx"),
        ("user", "Long text"),
    ]
    assert await messages(service, "summarize", {"text": "Long text"}) == [("system", summary), ("user", "Long text")]
    rendered = await messages(service, "shakespearean-writing-prompty", {"question": "Game night?"})
    assert [role for role, _ in rendered] == ["system", "user"]
    assert rendered[0][1].endswith("Prior engagements call me hence. Apologies.")
    assert rendered[1] == ("user", "Game night?")


async def test_export_and_reimport_change_nothing(service: TemplateService, tmp_path: Path) -> None:
    await import_path(service, FOLDER)
    before = await sources(service)
    report, after = await export_and_reimport(service, "prompty", tmp_path / "out")
    assert after == before
    assert (report.added, report.updated) == ([], [])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "basic-prompt.prompty", "shakespearean-writing-prompty.prompty", "structured-output.prompty",
        "summarize.prompty", "threaded-chat.prompty",
    ]  # fmt: skip


NATIVE = """---
name: review
title: Code review
description: Review a change.
category: dev
tags: [review]
arguments:
- name: language
  description: Programming language
  enum: [python, go]
- name: focus
  description: What to look at
  default: bugs
- name: files
  description: Paths
  type: json
  required: false
model:
  temperature: 0.2
metadata:
  owner: me
---
system:
You review {{ language }}.
{% if files %}
Files:
{% for f in files %}
  - {{ f }}
{% endfor %}
{% endif %}

user:
Look for {{ focus }}.
"""


async def test_native_to_prompty_and_back_keeps_every_field_and_render(service: TemplateService) -> None:
    parsed = service.parse(NATIVE)
    exported = export_prompty(parsed, "dev")
    assert [loss.lossy for loss in exported.losses] == [False]  # the category, kept in metadata.pba_tunnel
    back = service.parse(import_prompty(exported.text, "x", "review", 100_000).versions[0])
    assert back.spec.model_dump(exclude={"arguments"}) == parsed.spec.model_dump(exclude={"arguments"})
    assert [a.model_dump() | {"required": a.is_required} for a in back.spec.arguments] == [
        a.model_dump() | {"required": a.is_required} for a in parsed.spec.arguments
    ]
    arguments = {"language": "go", "files": ["a.go", "b.go"]}
    original = service.renderer.render(parsed, arguments)
    assert service.renderer.render(back, arguments).messages == original.messages
    assert original.messages[0].content == "You review go.\nFiles:\n  - a.go\n  - b.go"


async def test_prompty_specific_markers_and_defaults() -> None:
    text = "---\nname: t\n---\nBefore any marker\n# User:\nHi {{ who }}\n  ASSISTANT[name=x]:\nok\n"
    conversion = import_prompty(text, "t.prompty", "t", 100_000)
    body = conversion.versions[0].split("---\n", 2)[2]
    assert body == "system:\nBefore any marker\n\nuser:\nHi {{ who }}\n\nassistant:\nok\n"
    assert [(x.field, x.action) for x in conversion.losses] == [
        ("description", "added"), ("body", "dropped"), ("arguments.who", "added"),
    ]  # fmt: skip


async def test_a_label_has_no_place_in_a_prompty_file_and_the_report_says_so(
    service: TemplateService, tmp_path: Path
) -> None:
    await import_path(service, FOLDER)
    await service.set_label("summarize", "production", author="cli", can_admin=True)

    report = await export_foreign(service, tmp_path / "out", "prompty")
    dropped = [(x.template, x.field, x.action, x.detail) for x in report.losses if x.field == "labels"]
    assert dropped == [
        ("summarize", "labels", "dropped", "prompty files have no labels; not written: production -> v1")
    ]
    with pytest.raises(LossyConversionError):
        await export_foreign(service, tmp_path / "strict", "prompty", strict=True)
    assert not (tmp_path / "strict").exists()  # a refused export writes nothing
