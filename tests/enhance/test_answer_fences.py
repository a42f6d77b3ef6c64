"""Reading a model's answer when the template holds code fences of its own (the starter ``code-review``).

Models answer in three ways: the template alone, the template in a ```` ```markdown ```` fence (whose content has
the template's own bare ```` ``` ```` fence around ``{{ code }}``), or such a fence with prose before and after.
Each must give back the whole template, never the fragment before the template's first inner fence.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from conftest import STARTER, make_settings
from pba_tunnel.enhance import EnhanceRequest, enhance
from pba_tunnel.enhance.answer import extract_template
from pba_tunnel.providers import ChatMessage, Completion, CompletionOptions, Usage
from pba_tunnel.service import TemplateService
from pba_tunnel.startup import open_service

ORIGINAL = next(STARTER.rglob("code-review.md")).read_text(encoding="utf-8")
# What a model gives back: a sharper description and one more step; the inner ``` fence around {{ code }} stays.
IMPROVED = ORIGINAL.replace(
    "with prioritised, actionable findings.",
    "with prioritised, actionable findings and a clear verdict.",
).replace(
    "4. Note any tests that are missing for the behaviour you traced.",
    "4. Note any tests that are missing for the behaviour you traced.\n"
    "5. Check names and comments against what the code really does.",
)
INNER_FENCE = "```\n{{ code }}\n```\n"
CLOSING = '{% include "_partials/answer-format.md" %}\n'


def test_the_starter_template_and_its_improvement_hold_a_bare_inner_fence() -> None:
    assert IMPROVED != ORIGINAL
    for source in (ORIGINAL, IMPROVED):
        assert source.startswith("---\n")
        assert INNER_FENCE in source
        assert source.endswith(CLOSING)


ANSWERS = {
    "plain template": IMPROVED,
    "plain template after blank lines": f"\n\n{IMPROVED}\n",
    "markdown fence": f"```markdown\n{IMPROVED}```\n",
    "markdown fence, prose before and after": (
        "Here is the improved template. I tightened the description and added a step for naming.\n\n"
        f"```markdown\n{IMPROVED}```\n\n"
        "Changes:\n- The description now promises a verdict.\n- Step 5 checks names and comments.\n"
    ),
    "fence, prose after with a tagged code block": (
        f"Improved template:\n\n```md\n{IMPROVED}```\n\n"
        "A finding table would then look like:\n\n```text\n| 1 | High | app.py:12 | ... | ... |\n```\n"
    ),
    "longer outer fence": f"Here you go:\n\n````markdown\n{IMPROVED}````\n\nNotes:\n```\nnothing\n```\n",
    "tilde outer fence": f"~~~markdown\n{IMPROVED}~~~\nDone.\n",
    "unlabelled fence": f"```\n{IMPROVED}```",
    "fence with CRLF line ends": f"Sure:\r\n```markdown\r\n{IMPROVED.replace(chr(10), chr(13) + chr(10))}```\r\n",
}


@pytest.mark.parametrize("answer", ANSWERS.values(), ids=ANSWERS.keys())
def test_the_whole_template_is_read_from_each_kind_of_answer(answer: str) -> None:
    extracted = extract_template(answer)
    assert extracted == IMPROVED
    assert INNER_FENCE in extracted
    assert extracted.endswith(CLOSING)


def test_an_inner_fence_with_an_info_string_is_not_the_end_either() -> None:
    tagged = IMPROVED.replace(INNER_FENCE, "```{{ language | lower }}\n{{ code }}\n```\n")
    assert extract_template(f"Result:\n```markdown\n{tagged}```\n- done\n") == tagged


def test_an_unclosed_fence_runs_to_the_end() -> None:
    assert extract_template(f"```markdown\n{IMPROVED}") == IMPROVED


class OneAnswer:
    """A Provider that answers every request with one scripted text."""

    name = "scripted"
    default_model = "scripted-model"

    def __init__(self, text: str) -> None:
        self.text = text
        self.calls: list[tuple[list[ChatMessage], CompletionOptions | None]] = []

    async def complete(
        self, messages: list[ChatMessage], model: str | None = None, options: CompletionOptions | None = None
    ) -> Completion:
        self.calls.append((list(messages), options))
        return Completion(
            text=self.text,
            model=model or self.default_model,
            provider=self.name,
            usage=Usage(input_tokens=900, output_tokens=700),
            latency_ms=5.0,
        )

    async def aclose(self) -> None:
        """Nothing to release."""


@pytest.fixture
async def seeded(home: Path) -> AsyncIterator[TemplateService]:
    """A store seeded with the starter library (code-review and the enhance-* instruction templates)."""
    opened = await open_service(make_settings(home, seed=True))
    try:
        yield opened
    finally:
        await opened.close()


@pytest.mark.anyio
@pytest.mark.parametrize("answer", ANSWERS.values(), ids=ANSWERS.keys())
async def test_enhancing_code_review_saves_the_whole_template(seeded: TemplateService, answer: str) -> None:
    provider = OneAnswer(answer)
    result = await enhance(seeded, provider, EnhanceRequest(name="code-review", goal="clarity", save=True))

    assert (result.source, result.attempts, result.saved_version) == (IMPROVED, 1, 2)
    assert len(provider.calls) == 1
    [(sent, _options)] = provider.calls
    assert "{{ code }}" in sent[-1].content  # the model was shown the template with its fence
    stored = await seeded.get("code-review")
    assert stored.source == IMPROVED
    rendered = await seeded.render("code-review", {"language": "Python", "code": "print(1)"})
    user = rendered.messages[-1].content
    assert "```\nprint(1)\n```" in user
    assert "5. Check names and comments" in user
