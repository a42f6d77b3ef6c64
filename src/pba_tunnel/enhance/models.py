"""What an enhancement is asked for and what it returns."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field

from ..errors import EnhanceRequestError

Goal = Literal["clarity", "structure", "examples", "concise", "custom"]
GOALS: tuple[str, ...] = get_args(Goal)
INSTRUCTION_PREFIX = "enhance-"  # the instruction for goal G is the stored template "enhance-G"


def instruction_template(goal: str) -> str:
    """The name of the stored template whose rendering is sent to the model for ``goal``."""
    return f"{INSTRUCTION_PREFIX}{goal}"


class EnhanceRequest(BaseModel):
    """One enhancement: a stored template (``name``) or raw template text (``source``), and how to improve it."""

    name: str | None = Field(default=None, description="A stored template to improve (or give source).")
    source: str | None = Field(default=None, description="Raw template text to improve (or give name).")
    goal: Goal = Field(default="clarity", description="What to improve.")
    instruction: str | None = Field(
        default=None, description="Free-text instruction: required for goal custom, an extra wish otherwise."
    )
    allow_argument_changes: bool = Field(default=False, description="Let the model add, rename or drop arguments.")
    save: bool = Field(default=False, description="Store the result as a new version (only with name).")
    author: str = Field(default="cli", description="Who saves it, as the template's history records it.")

    def check(self, *, comparing: bool = False) -> None:
        """Raise EnhanceRequestError when the request is inconsistent, saying what to change."""
        if (self.name is None) == (self.source is None):
            raise EnhanceRequestError("give exactly one of name (a stored template) or source (template text)")
        if self.goal == "custom" and not (self.instruction or "").strip():
            raise EnhanceRequestError("goal 'custom' needs an instruction saying what to change")
        if self.save and self.name is None:
            raise EnhanceRequestError(
                "save needs a stored template: only name can be saved; store the source as a template first "
                "or drop save"
            )
        if self.save and comparing:
            raise EnhanceRequestError("compare cannot save: compare first, then enhance and save with one provider")


class EnhanceResult(BaseModel):
    """An enhanced template, its diff against the original and what producing it cost."""

    name: str
    goal: Goal
    source: str = Field(description="The enhanced template source.")
    diff: str = Field(description="Unified diff from the current version (or the given source) to the result.")
    provider: str
    model: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_ms: float
    attempts: int = Field(description="Model calls made: 1, or 2 when the first answer failed validation.")
    saved_version: int | None = Field(default=None, description="The new version when saved, else None.")


class EnhanceFailure(BaseModel):
    """One provider's failure in a compare, reported next to the other candidates."""

    provider: str
    model: str | None = None
    error: str
    code: str = "enhance_failed"
