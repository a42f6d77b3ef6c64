"""Langfuse prompt objects (the shape its API returns) from its documentation's examples: every version in
order, labels as store labels, config kept, variables as arguments, references as includes, and round trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from formats_support import DATA, export_and_reimport, messages, sources

from conftest import make_settings
from pba_tunnel.formats.langfuse import export_langfuse
from pba_tunnel.formats.transfer import export_foreign
from pba_tunnel.service import TemplateService
from pba_tunnel.sync import import_path

pytestmark = pytest.mark.anyio
FOLDER = DATA / "langfuse"


async def test_versions_labels_and_config_are_imported_in_order(service: TemplateService) -> None:
    report = await import_path(service, FOLDER)
    assert sorted(report.added) == [
        "_partials/langfuse/prompt-name-v1", "book-review", "movie-critic", "movie-critic-chat", "movie-review",
        "prompt-name",
    ]  # fmt: skip
    assert [v.version for v in await service.history("movie-critic")] == [1, 2]
    first = service.parse((await service.get("movie-critic", 1)).source)
    assert first.spec.metadata["langfuse"] == {"version": 1}
    assert service.renderer.render(first, {}).text == "As a movie critic, do you like Dune 2?"
    _stored, current = await service.current("movie-critic")
    assert current.spec.tags == ["movies"]
    assert current.spec.model is not None
    assert current.spec.model.model_dump(exclude_none=True) == {"model": "gpt-4o", "temperature": 0.5}
    assert current.spec.metadata["langfuse"] == {"version": 2, "config": {"supported_languages": ["en", "fr"]}}
    assert [(v.version, v.labels) for v in await service.history("movie-critic")] == [
        (1, []),
        (2, ["production", "staging"]),  # 'latest' is always the newest: never stored
    ]
    assert sorted((m.name, m.label, m.to_version) for m in report.labels) == [  # type: ignore[attr-defined]
        ("movie-critic", "production", 2), ("movie-critic", "staging", 2), ("movie-critic-chat", "production", 1),
        ("movie-review", "production", 1), ("prompt-name", "production", 1),
    ]  # fmt: skip
    assert {(c.action, c.label, c.author) for c in await service.changes("movie-critic")} == {
        ("label", "production", "cli"),
        ("label", "staging", "cli"),
    }
    assert await messages(service, "movie-critic", {"criticLevel": "expert", "movie": "Dune"}) == [
        ("user", "As a expert movie critic, do you like Dune?")
    ]


async def test_chat_prompts_references_and_what_is_reported(service: TemplateService) -> None:
    report = await import_path(service, FOLDER)
    assert await messages(service, "movie-critic-chat", {"criticlevel": "expert"}) == [
        ("system", "You are an expert movie critic"),
        ("user", "What should I watch next?"),
    ]
    assert await messages(service, "movie-review", {"criticLevel": "harsh", "movie": "Dune"}) == [
        ("user", "Always answer in the voice of a harsh critic.\nReview Dune in three sentences.")
    ]
    assert await messages(service, "book-review", {"book": "Emma"}) == [
        ("user", "@@@langfusePrompt:name=OtherPrompt|label=production@@@\nReview Emma.")
    ]
    lossy = sorted((x.template, x.action) for x in report.losses if x.lossy)  # type: ignore[attr-defined]
    assert lossy == [("book-review", "literal"), ("movie-critic-chat", "dropped")]


async def test_export_writes_every_version_and_reimports_unchanged(service: TemplateService, tmp_path: Path) -> None:
    await import_path(service, FOLDER)
    before = await sources(service)
    report, after = await export_and_reimport(service, "langfuse", tmp_path / "out")
    assert after == before
    assert (report.added, report.updated) == ([], [])
    assert [v.version for v in await service.history("movie-critic")] == [1, 2]
    exported = json.loads((tmp_path / "out" / "movie-critic.json").read_text(encoding="utf-8"))
    assert [(p["version"], p["prompt"], p["labels"]) for p in exported] == [
        (1, "As a movie critic, do you like Dune 2?", []),
        (2, "As a {{criticLevel}} movie critic, do you like {{movie}}?", ["production", "staging", "latest"]),
    ]
    assert exported[1]["config"] == {"supported_languages": ["en", "fr"], "model": "gpt-4o", "temperature": 0.5}
    review = json.loads((tmp_path / "out" / "movie-review.json").read_text(encoding="utf-8"))
    assert review[0]["prompt"] == "@@@langfusePrompt:name=PromptName|version=1@@@\nReview {{movie}} in three sentences."


NATIVE = """---
name: ask
description: Ask about a topic.
category: qa
arguments:
- name: topic
  description: The topic
- name: detail
  description: Detail level
  default: short
---
system:
Answer in a {{ detail }} way.

user:
Tell me about {{ topic }}.{% if detail == "long" %} Take your time.{% endif %}
"""


async def test_native_to_langfuse_and_back_names_its_loss(service: TemplateService, tmp_path: Path) -> None:
    parsed = service.parse(NATIVE)
    exported = export_langfuse([(parsed, 1)], "qa")
    assert [(x.action, x.detail.split(":")[0]) for x in exported.losses if x.lossy] == [
        ("literal", "'{% if detail == \"long\" %}'"),
        ("literal", "'{% endif %}'"),
    ]
    (tmp_path / "ask.json").write_text(exported.text, encoding="utf-8")
    await import_path(service, tmp_path / "ask.json")
    _stored, back = await service.current("ask")
    assert back.spec.model_dump(exclude={"metadata"}) == parsed.spec.model_dump(exclude={"metadata"})
    assert await messages(service, "ask", {"topic": "tea"}) == [
        ("system", "Answer in a short way."),
        ("user", 'Tell me about tea.{% if detail == "long" %} Take your time.{% endif %}'),
    ]


async def test_reimport_adds_only_versions_not_stored_yet(service: TemplateService, tmp_path: Path) -> None:
    await import_path(service, FOLDER / "movie-critic.json")
    edited = (await service.get("movie-critic")).source.replace("do you like", "what do you think of")
    await service.update("movie-critic", edited)
    again = await import_path(service, FOLDER / "movie-critic.json")
    assert (again.unchanged, [v.version for v in await service.history("movie-critic")]) == (
        ["movie-critic"],
        [1, 2, 3],
    )
    assert (await service.get("movie-critic")).source == edited  # the local edit stays current

    prompts = json.loads((FOLDER / "movie-critic.json").read_text(encoding="utf-8"))
    newer = {**prompts[1], "version": 3, "prompt": "Rate {{movie}} out of ten.", "labels": ["latest"]}
    (tmp_path / "movie-critic.json").write_text(json.dumps([*prompts, newer]), encoding="utf-8")
    later = await import_path(service, tmp_path / "movie-critic.json")
    assert later.updated == ["movie-critic"]
    assert await messages(service, "movie-critic", {"movie": "Heat"}) == [("user", "Rate Heat out of ten.")]
    assert [v.version for v in await service.history("movie-critic")] == [1, 2, 3, 4]


async def test_labels_survive_native_to_langfuse_and_back(service: TemplateService, tmp_path: Path) -> None:
    await service.create(NATIVE)
    for word in ("briefly", "in depth"):
        await service.update("ask", NATIVE.replace("Tell me about", f"Tell me {word} about"))
    await service.set_label("ask", "production", version=1, author="ann", can_admin=True)
    await service.set_label("ask", "staging", version=3, author="ann", can_admin=True)
    await export_foreign(service, tmp_path / "out", "langfuse")
    exported = json.loads((tmp_path / "out" / "ask.json").read_text(encoding="utf-8"))
    assert [(p["version"], p["labels"]) for p in exported] == [(1, ["production"]), (2, []), (3, ["staging", "latest"])]

    other = await TemplateService.open(make_settings(tmp_path / "other"))
    try:
        first = await import_path(other, tmp_path / "out")
        assert [(v.version, v.labels) for v in await other.history("ask")] == [
            (1, ["production"]),
            (2, []),
            (3, ["staging"]),
        ]
        assert len(first.labels) == 2  # type: ignore[attr-defined]
        again = await import_path(other, tmp_path / "out")
        assert (again.unchanged, again.labels) == (["ask"], [])  # type: ignore[attr-defined]
        assert len(await other.changes("ask")) == 2  # no move recorded by the re-import
    finally:
        await other.close()


async def test_a_label_moved_in_langfuse_moves_here_without_a_version(service: TemplateService, tmp_path: Path) -> None:
    prompts = json.loads((FOLDER / "movie-critic.json").read_text(encoding="utf-8"))
    await import_path(service, FOLDER / "movie-critic.json")
    prompts[0]["labels"], prompts[1]["labels"] = ["production"], ["staging", "latest", "v1.0"]
    (tmp_path / "movie-critic.json").write_text(json.dumps(prompts), encoding="utf-8")
    report = await import_path(service, tmp_path / "movie-critic.json")
    assert [(m.label, m.from_version, m.to_version) for m in report.labels] == [("production", 2, 1)]  # type: ignore[attr-defined]
    assert [(v.version, v.labels) for v in await service.history("movie-critic")] == [
        (1, ["production"]),
        (2, ["staging"]),
    ]
    # 'v1.0' is a Langfuse label this store cannot name: reported as lost.
    assert [(x.field, x.action) for x in report.losses] == [("labels", "dropped")]  # type: ignore[attr-defined]
    await export_foreign(service, tmp_path / "out", "langfuse")
    exported = json.loads((tmp_path / "out" / "movie-critic.json").read_text(encoding="utf-8"))
    assert [p["labels"] for p in exported] == [["production"], ["staging", "latest"]]
