"""Plain pydantic models of a template: its front matter and its message parts."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
ARGUMENT_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
ArgumentType = Literal["string", "integer", "number", "boolean", "json"]
Role = Literal["system", "user", "assistant"]


def value_matches_type(value: Any, type_: ArgumentType) -> bool:
    """True when a YAML value (a default or an enum member) has the declared type."""
    if type_ == "string":
        return isinstance(value, str)
    if type_ == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_ == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_ == "boolean":
        return isinstance(value, bool)
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


class ArgumentSpec(BaseModel):
    """One declared argument of a template."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=ARGUMENT_NAME_PATTERN, max_length=64)
    description: str = Field(min_length=1, max_length=1000)
    required: bool | None = None
    default: Any = None
    enum: list[Any] | None = Field(default=None, min_length=1)
    type: ArgumentType = "string"

    @model_validator(mode="after")
    def _consistent(self) -> ArgumentSpec:
        if self.required and self.default is not None:
            raise ValueError("a required argument cannot have a default: drop 'required' or the default")
        if self.default is not None and not value_matches_type(self.default, self.type):
            raise ValueError(f"default {self.default!r} is not of type {self.type}")
        if self.enum is not None:
            wrong = [v for v in self.enum if not value_matches_type(v, self.type)]
            if wrong:
                raise ValueError(f"enum value(s) {wrong!r} are not of type {self.type}")
            if self.default is not None and self.default not in self.enum:
                raise ValueError(f"default {self.default!r} is not one of the enum values {self.enum!r}")
        return self

    @property
    def is_required(self) -> bool:
        """Required unless said otherwise or a default is given."""
        return self.required if self.required is not None else self.default is None


class ModelHints(BaseModel):
    """Optional hints for providers and enhancement."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    max_tokens: int | None = Field(default=None, gt=0)
    stop: list[str] | None = None


class TemplateSpec(BaseModel):
    """The validated front matter of a template (name and category already resolved)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN, max_length=128)
    title: str | None = Field(default=None, max_length=200)
    description: str = Field(min_length=1, max_length=2000)
    category: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_/-]*$", max_length=128)
    tags: list[str] = Field(default_factory=list)
    arguments: list[ArgumentSpec] = Field(default_factory=list)
    model: ModelHints | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    # An internal template (an instruction used by enhance, say) renders by name but is never listed to clients.
    internal: bool = False

    @model_validator(mode="after")
    def _unique_arguments(self) -> TemplateSpec:
        seen: set[str] = set()
        for argument in self.arguments:
            if argument.name in seen:
                raise ValueError(f"argument '{argument.name}' is declared twice")
            seen.add(argument.name)
        return self

    def argument(self, name: str) -> ArgumentSpec | None:
        """The declared argument called ``name``, if any."""
        return next((a for a in self.arguments if a.name == name), None)


class MessagePart(BaseModel):
    """One message of a template body, before rendering."""

    model_config = ConfigDict(frozen=True)

    role: Role
    source: str
    line: int  # line in the file where this part's text starts


class ParsedTemplate(BaseModel):
    """A template that parsed and validated: spec, source, message parts, hash and warnings."""

    model_config = ConfigDict(frozen=True)

    spec: TemplateSpec
    source: str
    parts: tuple[MessagePart, ...]
    content_hash: str
    partials: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()  # every variable the body and its partials use

    @property
    def name(self) -> str:
        """The template's name (its MCP prompt name)."""
        return self.spec.name
