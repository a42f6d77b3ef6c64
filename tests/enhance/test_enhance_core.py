"""Enhancing templates with a model: instruction from the store, validation, one retry, diff, save, compare."""

from __future__ import annotations

import difflib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from conftest import make_settings, template_source
from pba_tunnel.enhance import GOALS, EnhanceFailure, EnhanceRequest, EnhanceResult, compare, enhance
from pba_tunnel.enhance.answer import extract_template
from pba_tunnel.errors import (
    EnhanceError,
    EnhanceRequestError,
    InstructionMissingError,
    NotFoundError,
    ProviderError,
)
from pba_tunnel.providers import ChatMessage, Completion, CompletionOptions, Provider, Usage
from pba_tunnel.service import TemplateService
from pba_tunnel.startup import open_service

pytestmark = pytest.mark.anyio

ORIGINAL = template_source(
    body="user:\nGreet {{ who }} in a {{ tone }} tone.",
    arguments=(
        "  - name: who\n    description: Who to greet\n"
        "  - name: tone\n    description: The tone of the greeting\n    default: warm\n"
    ),
)
IMPROVED = (
    "---\n"
    "description: Write a one-sentence greeting for one person.\n"
    "arguments:\n"
    "  - name: who\n    description: The name of the person to greet, e.g. Ada\n"
    "  - name: tone\n    description: The tone of the greeting, e.g. warm or formal\n    default: warm\n"
    "---\n"
    "system:\nYou write short, friendly greetings.\n\n"
    "user:\nWrite one sentence greeting <name>{{ who }}</name> in a {{ tone }} tone. Answer with the sentence only.\n"
)
DROPPED_TONE = (
    "---\ndescription: Write a greeting.\narguments:\n  - name: who\n    description: The person to greet\n"
    "---\nuser:\nGreet {{ who }}.\n"
)
TEMPERATURES = {"clarity": 0.3, "structure": 0.3, "examples": 0.5, "concise": 0.2, "custom": 0.3}
RENAMED_WHO = IMPROVED.replace("name: who", "name: person").replace("{{ who }}", "{{ person }}")


def fenced(source: str) -> str:
    return f"Here it is:\n\n```markdown\n{source}```\n\n- Made the task explicit.\n"


class FakeProvider:
    """A Provider that returns scripted answers (or raises) and keeps every conversation it was sent."""

    def __init__(self, *answers: str | Exception, name: str = "fake", model: str = "fake-model") -> None:
        self.name = name
        self._model = model
        self.answers = list(answers)
        self.calls: list[tuple[list[ChatMessage], str | None, CompletionOptions | None]] = []
        self.closed = False

    @property
    def default_model(self) -> str:
        return self._model

    async def complete(
        self, messages: list[ChatMessage], model: str | None = None, options: CompletionOptions | None = None
    ) -> Completion:
        self.calls.append((list(messages), model, options))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return Completion(
            text=answer,
            model=model or self._model,
            provider=self.name,
            usage=Usage(input_tokens=100, output_tokens=40),
            latency_ms=12.5,
        )

    async def aclose(self) -> None:
        self.closed = True


@pytest.fixture
async def service(home: Path) -> AsyncIterator[TemplateService]:
    """A seeded store (the enhance-* instruction templates come from the starter library) holding 'greet'."""
    opened = await open_service(make_settings(home, seed=True))
    try:
        await opened.create(ORIGINAL, name="greet")
        yield opened
    finally:
        await opened.close()


def expected_diff(before: str, after: str, fromfile: str, tofile: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), fromfile=fromfile, tofile=tofile
    )
    return "".join(lines)


async def instruction(service: TemplateService, goal: str, **values: object) -> list[ChatMessage]:
    rendered = await service.render(f"enhance-{goal}", values)
    return [ChatMessage(role=m.role, content=m.content) for m in rendered.messages]


def events(home: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(home / "pba-tunnel.db") as connection:
        return connection.execute(
            "SELECT template_name, goal, provider, model, input_tokens, output_tokens, latency_ms, attempts, saved, "
            "saved_version, error FROM enhancement_events ORDER BY id"
        ).fetchall()


def test_the_fake_is_a_provider() -> None:
    assert isinstance(FakeProvider(), Provider)


@pytest.mark.parametrize("goal", GOALS)
async def test_each_goal_sends_its_instruction_template_from_the_store(service: TemplateService, goal: str) -> None:
    provider = FakeProvider(fenced(IMPROVED))
    wish = "Make it sound like a pirate." if goal == "custom" else None
    result = await enhance(service, provider, EnhanceRequest(name="greet", goal=goal, instruction=wish))

    assert result == EnhanceResult(
        name="greet",
        goal=goal,
        source=IMPROVED,
        diff=expected_diff(ORIGINAL, IMPROVED, "greet@1", "greet (enhanced)"),
        provider="fake",
        model="fake-model",
        input_tokens=100,
        output_tokens=40,
        latency_ms=12.5,
        attempts=1,
        saved_version=None,
    )
    sent = await instruction(service, goal, source=ORIGINAL, keep_arguments=True, instruction=wish or "")
    assert [m.role for m in sent] == ["system", "user"]  # the system role reaches the provider as such
    options = CompletionOptions(temperature=TEMPERATURES[goal], max_tokens=4096)  # the template's model hints
    assert provider.calls == [(sent, None, options)]
    assert ORIGINAL.strip() in sent[1].content
    if wish:
        assert wish in sent[1].content


async def test_the_instruction_template_can_be_tuned_in_the_store(service: TemplateService) -> None:
    tuned = (await service.get("enhance-concise")).source.replace("Make the template below more concise.", "Cut it.")
    await service.update("enhance-concise", tuned)
    provider = FakeProvider(fenced(IMPROVED))
    await enhance(service, provider, EnhanceRequest(name="greet", goal="concise"))
    assert provider.calls[0][0][1].content.startswith("Cut it.\n")


async def test_an_answer_that_drops_an_argument_is_retried_once_with_the_problem(service: TemplateService) -> None:
    provider = FakeProvider(fenced(DROPPED_TONE), fenced(IMPROVED))
    result = await enhance(service, provider, EnhanceRequest(name="greet"))

    assert (result.source, result.attempts, result.input_tokens, result.output_tokens, result.latency_ms) == (
        IMPROVED,
        2,
        200,
        80,
        25.0,
    )
    first, second = provider.calls[0][0], provider.calls[1][0]
    assert second == [
        *first,
        ChatMessage(role="assistant", content=fenced(DROPPED_TONE)),
        ChatMessage(
            role="user",
            content=(
                "Your answer is not an acceptable template: the arguments changed (dropped argument(s) tone): "
                "keep exactly these arguments: who, tone.\n\n"
                "Fix this and answer again with the complete template in one fenced ```markdown block."
            ),
        ),
    ]


async def test_two_bad_answers_fail_naming_the_problem(service: TemplateService, home: Path) -> None:
    provider = FakeProvider(fenced(DROPPED_TONE), "I think the template is fine as it is.")
    with pytest.raises(EnhanceError) as caught:
        await enhance(service, provider, EnhanceRequest(name="greet"))
    assert caught.value.code == "enhance_failed"
    assert caught.value.message == (
        "fake/fake-model gave no valid template for 'greet' in 2 attempts; last problem: the template does not "
        "parse: 1: front matter: a template starts with a line '---', then YAML front matter, then a closing '---' "
        "line. Try again, another model, or goal custom with a more precise instruction"
    )
    assert len(provider.calls) == 2
    assert [h.version for h in await service.history("greet")] == [1]
    assert events(home) == [("greet", "clarity", "fake", "fake-model", 200, 80, 25.0, 2, 0, None, "enhance_failed")]


async def test_a_renamed_template_or_an_unrenderable_one_is_rejected(service: TemplateService) -> None:
    renamed = IMPROVED.replace("---\ndescription", "---\nname: hello\ndescription", 1)
    unrenderable = IMPROVED.replace("{{ tone }} tone.", "{{ tone.missing.attr }} tone.")
    provider = FakeProvider(fenced(renamed), fenced(unrenderable))
    with pytest.raises(EnhanceError) as caught:
        await enhance(service, provider, EnhanceRequest(name="greet"))
    retry = provider.calls[1][0][-1].content
    assert retry.startswith(
        "Your answer is not an acceptable template: the template was renamed to 'hello': keep 'name: greet' "
        "(or leave name out).\n"
    )
    assert "last problem: the template does not render with sample arguments: template 'greet'" in (
        caught.value.message
    )


async def test_allow_argument_changes_lets_a_rename_through(service: TemplateService) -> None:
    refused = FakeProvider(fenced(RENAMED_WHO), fenced(RENAMED_WHO))
    with pytest.raises(EnhanceError) as caught:
        await enhance(service, refused, EnhanceRequest(name="greet"))
    assert "the arguments changed (dropped argument(s) who; added argument(s) person)" in caught.value.message

    provider = FakeProvider(fenced(RENAMED_WHO))
    result = await enhance(service, provider, EnhanceRequest(name="greet", allow_argument_changes=True, save=True))
    assert (result.source, result.attempts, result.saved_version) == (RENAMED_WHO, 1, 2)
    sent = await instruction(service, "clarity", source=ORIGINAL, keep_arguments=False)
    assert provider.calls[0][0] == sent
    assert "You may add, rename or drop arguments" in sent[1].content
    assert [a.name for a in (await service.get("greet")).arguments] == ["person", "tone"]


async def test_save_false_changes_nothing(service: TemplateService) -> None:
    result = await enhance(service, FakeProvider(fenced(IMPROVED)), EnhanceRequest(name="greet"))
    assert result.saved_version is None
    assert [h.version for h in await service.history("greet")] == [1]
    assert (await service.get("greet")).source == ORIGINAL


async def test_save_true_stores_one_version_and_rollback_restores_the_original(
    service: TemplateService, home: Path
) -> None:
    result = await enhance(service, FakeProvider(fenced(IMPROVED)), EnhanceRequest(name="greet", save=True))
    assert result.saved_version == 2
    history = await service.history("greet")
    assert [(h.version, h.message, h.origin, h.current) for h in history] == [
        (1, "created", "cli", False),
        (2, "enhanced by fake/fake-model (clarity)", "enhance", True),
    ]
    assert (await service.get("greet")).source == IMPROVED
    assert await service.diff("greet", 1, 2) == result.diff.replace("greet (enhanced)", "greet@2")

    await service.rollback("greet", 1)
    assert (await service.get("greet")).source == ORIGINAL
    assert events(home) == [("greet", "clarity", "fake", "fake-model", 100, 40, 12.5, 1, 1, 2, None)]


async def test_a_dropped_explicit_name_line_is_restored(service: TemplateService) -> None:
    named = ORIGINAL.replace("---\n", "---\nname: named\n", 1)
    await service.create(named)
    result = await enhance(service, FakeProvider(fenced(IMPROVED)), EnhanceRequest(name="named", save=True))
    assert result.source == IMPROVED.replace("---\n", "---\nname: named\n", 1)
    assert (await service.get("named")).source == result.source


async def test_raw_source_is_enhanced_and_cannot_be_saved(service: TemplateService, home: Path) -> None:
    result = await enhance(service, FakeProvider(fenced(IMPROVED), model="m2"), EnhanceRequest(source=ORIGINAL))
    assert (result.name, result.source, result.model, result.saved_version) == ("template", IMPROVED, "m2", None)
    assert result.diff == expected_diff(ORIGINAL, IMPROVED, "template (given)", "template (enhanced)")

    with pytest.raises(EnhanceRequestError) as caught:
        await enhance(service, FakeProvider(), EnhanceRequest(source=ORIGINAL, save=True))
    assert caught.value.code == "invalid_enhance_request"
    assert caught.value.message.startswith("save needs a stored template: only name can be saved")
    assert events(home) == [("template", "clarity", "fake", "m2", 100, 40, 12.5, 1, 0, None, None)]


@pytest.mark.parametrize(
    ("request_fields", "message"),
    [
        ({}, "give exactly one of name (a stored template) or source (template text)"),
        (
            {"name": "greet", "source": ORIGINAL},
            "give exactly one of name (a stored template) or source (template text)",
        ),
        ({"name": "greet", "goal": "custom"}, "goal 'custom' needs an instruction saying what to change"),
        (
            {"source": "no front matter"},
            "the source to enhance is not a valid template: 1: front matter: a template "
            "starts with a line '---', then YAML front matter, then a closing '---' line",
        ),
    ],
)
async def test_inconsistent_requests_are_refused_before_any_model_call(
    service: TemplateService, request_fields: dict[str, object], message: str
) -> None:
    provider = FakeProvider()
    with pytest.raises(EnhanceRequestError) as caught:
        await enhance(service, provider, EnhanceRequest.model_validate(request_fields))
    assert (caught.value.code, caught.value.message) == ("invalid_enhance_request", message)
    assert provider.calls == []


async def test_an_unknown_template_is_not_found(service: TemplateService) -> None:
    with pytest.raises(NotFoundError):
        await enhance(service, FakeProvider(), EnhanceRequest(name="ghost"))


async def test_a_missing_instruction_template_says_how_to_get_it_back(service: TemplateService) -> None:
    await service.delete("enhance-clarity")
    with pytest.raises(EnhanceError) as caught:
        await enhance(service, FakeProvider(), EnhanceRequest(name="greet"))
    assert type(caught.value) is InstructionMissingError
    assert (caught.value.code, caught.value.template) == ("instruction_missing", "enhance-clarity")
    assert caught.value.message == (
        "the instruction template 'enhance-clarity' is not in the store: import it from the starter library's "
        "templates/enhance folder or create it"
    )


async def test_compare_returns_candidates_side_by_side_and_reports_a_failing_provider(
    service: TemplateService, home: Path
) -> None:
    first = FakeProvider(fenced(IMPROVED), name="alpha", model="a-1")
    second = FakeProvider(fenced(RENAMED_WHO), fenced(IMPROVED.replace("one sentence", "two sentences")), name="beta")
    broken = FakeProvider(ProviderError("beta2 is down: try later"), name="gamma", model="g-1")
    results = await compare(service, [(first, None), (second, "b-9"), (broken, None)], EnhanceRequest(name="greet"))

    assert results[2] == EnhanceFailure(
        provider="gamma", model="g-1", error="beta2 is down: try later", code="provider_error"
    )
    a, b = results[0], results[1]
    assert isinstance(a, EnhanceResult)
    assert isinstance(b, EnhanceResult)
    assert (a.provider, a.model, a.source, a.attempts) == ("alpha", "a-1", IMPROVED, 1)
    assert (b.provider, b.model, b.attempts) == ("beta", "b-9", 2)
    assert b.diff == expected_diff(ORIGINAL, b.source, "greet@1", "greet (enhanced)")
    assert first.calls[0][0] == second.calls[0][0] == broken.calls[0][0]  # the same enhancement for all
    assert [h.version for h in await service.history("greet")] == [1]
    assert sorted(events(home)) == [
        ("greet", "clarity", "alpha", "a-1", 100, 40, 12.5, 1, 0, None, None),
        ("greet", "clarity", "beta", "b-9", 200, 80, 25.0, 2, 0, None, None),
        ("greet", "clarity", "gamma", "g-1", None, None, 0.0, 0, 0, None, "provider_error"),
    ]


async def test_compare_never_saves_and_takes_two_or_three_providers(service: TemplateService) -> None:
    with pytest.raises(EnhanceRequestError) as caught:
        await compare(service, [(FakeProvider(), None)] * 2, EnhanceRequest(name="greet", save=True))
    assert caught.value.message == "compare cannot save: compare first, then enhance and save with one provider"
    with pytest.raises(EnhanceRequestError) as caught:
        await compare(service, [(FakeProvider(), None)], EnhanceRequest(name="greet"))
    assert caught.value.message == "compare takes two or three providers, got 1"


async def test_the_store_reads_back_recorded_enhancements(service: TemplateService) -> None:
    await enhance(service, FakeProvider(fenced(IMPROVED)), EnhanceRequest(name="greet", goal="concise"))
    [event] = await service.enhancement_events("greet")
    assert (event.name, event.goal, event.provider, event.saved, event.error) == (
        "greet",
        "concise",
        "fake",
        False,
        None,
    )
    assert event.created_at is not None
    assert await service.enhancement_events("other") == []


def test_the_first_fenced_block_is_the_template() -> None:
    nested = "---\ndescription: d\n---\nuser:\nShow:\n```python\nprint(1)\n```\n"
    assert extract_template(f"````markdown\n{nested}````\nnotes\n```text\nx\n```\n") == nested
    assert extract_template(f"intro\n```md\n{IMPROVED}```") == IMPROVED
    assert extract_template(f"\n{IMPROVED}\n\n") == IMPROVED  # no fence: the whole answer
    assert extract_template("```\n---\nunclosed") == "---\nunclosed\n"


def test_the_cli_offers_every_goal() -> None:
    from pba_tunnel.cli.commands_enhance import GOALS as CLI_GOALS

    assert list(GOALS) == CLI_GOALS
