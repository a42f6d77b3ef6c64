"""Input and output models of the MCP tools; their JSON Schemas are the tools' schemas."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..templates.spec import ArgumentSpec

Name = Field(description="Template name (its MCP prompt name), e.g. code-review", min_length=1, max_length=200)


class Input(BaseModel):
    """Tool inputs reject unknown keys so typos surface instead of being ignored."""

    model_config = ConfigDict(extra="forbid")


class RenderInput(Input):
    name: str = Name
    arguments: dict[str, Any] = Field(
        default_factory=dict, description="Argument values by name (strings are converted to the declared type)"
    )
    version: int | None = Field(default=None, ge=1, description="Render this version instead of the current one")


class SearchInput(Input):
    query: str = Field(
        min_length=1,
        max_length=500,
        description='Words to look for (all must match); "exact phrase", prefix*, -excluded, category:NAME, tag:NAME',
    )
    category: str | None = Field(default=None, description="Only this category")
    tags: list[str] | None = Field(default=None, description="Only templates carrying all of these tags")
    limit: int = Field(default=10, ge=1, le=100, description="Most results to return")


class ListInput(Input):
    category: str | None = Field(default=None, description="Only this category (and its sub-categories)")
    tag: str | None = Field(default=None, description="Only templates with this tag")
    cursor: str | None = Field(default=None, description="next_cursor of the previous page")
    limit: int = Field(default=50, ge=1, le=1000, description="Templates per page")


class NameInput(Input):
    name: str = Name


class GetInput(Input):
    name: str = Name
    version: int | None = Field(default=None, ge=1, description="A given version instead of the current one")


class CreateInput(Input):
    source: str = Field(
        description="The whole template file: YAML front matter between '---' lines, then the "
        "Jinja2 body with optional 'system:' / 'user:' / 'assistant:' marker lines"
    )
    name: str | None = Field(default=None, description="Name, when the front matter has none")
    category: str | None = Field(default=None, description="Category, when the front matter has none")
    message: str | None = Field(default=None, description="Why this template exists (kept in its history)")


class UpdateInput(Input):
    name: str = Name
    source: str = Field(description="The whole new template file (front matter and body)")
    expected_version: int | None = Field(
        default=None,
        ge=1,
        description="Refuse the update unless this is still "
        "the current version (protects against overwriting someone's change)",
    )
    message: str | None = Field(default=None, description="What changed and why (kept in the history)")


class RollbackInput(Input):
    name: str = Name
    version: int = Field(ge=1, description="The version whose content becomes current again")


class DiffInput(Input):
    name: str = Name
    from_version: int = Field(ge=1, description="Older version")
    to_version: int = Field(ge=1, description="Newer version")


class MessageOut(BaseModel):
    role: str
    content: str


class RenderOut(BaseModel):
    name: str
    version: int
    messages: list[MessageOut]
    text: str = Field(description="The messages' contents joined by blank lines")


class TemplateOut(BaseModel):
    name: str
    title: str | None = None
    description: str
    category: str | None = None
    tags: list[str]
    version: int


class SearchHit(TemplateOut):
    score: float = Field(description="Relevance; higher is better")
    snippet: str = Field(description="Text around the match, matches in **bold**")
    matched: list[str] = Field(description="Fields the query matched in")
    fuzzy: bool = Field(description="Found by similarity of name or title (a likely typo), not by its words")


class SearchOut(BaseModel):
    query: str
    mode: str = Field(
        description="all: every word matched; any: the query was loosened to any word; fuzzy: "
        "similar names or titles; filter: category/tag filters only"
    )
    notice: str | None = Field(default=None, description="Says when and how the query was loosened")
    results: list[SearchHit]


class ListOut(BaseModel):
    templates: list[TemplateOut]
    next_cursor: str | None = None


class DetailOut(TemplateOut):
    current_version: int
    arguments: list[ArgumentSpec]
    source: str
    content_hash: str
    message: str | None = None
    origin: str


class WriteOut(BaseModel):
    name: str
    version: int
    created: bool
    changed: bool


class StateOut(BaseModel):
    name: str
    deleted: bool
    changed: bool = Field(description="False when the template already was in that state")


class VersionOut(BaseModel):
    version: int
    content_hash: str
    message: str | None
    origin: str
    created_at: str
    current: bool


class HistoryOut(BaseModel):
    name: str
    versions: list[VersionOut]


class DiffOut(BaseModel):
    name: str
    from_version: int
    to_version: int
    diff: str = Field(description="Unified diff; empty when the versions are identical")


class EnhanceInput(Input):
    name: str | None = Field(
        default=None, min_length=1, max_length=200, description="A stored template to improve (or pass source)"
    )
    source: str | None = Field(default=None, description="A template file to improve instead of a stored one")
    goal: Literal["clarity", "structure", "examples", "concise", "custom"] = Field(
        default="clarity", description="What to improve; custom follows `instruction`"
    )
    instruction: str | None = Field(default=None, description="Extra guidance for the model (needed for custom)")
    allow_argument_changes: bool = Field(
        default=False, description="Let the model add, remove or rename arguments (kept as they are by default)"
    )
    save: bool = Field(default=False, description="Store the result as a new version of the named template")
    provider: str | None = Field(
        default=None,
        description="sampling (ask this MCP client's own model; the default when the client supports it), "
        "openai, anthropic or ollama",
    )
    model: str | None = Field(default=None, description="Model name (for sampling only a hint to the client)")
    compare: list[str] | None = Field(
        default=None,
        min_length=2,
        max_length=3,
        description='Try two or three providers side by side instead, each "provider" or "provider:model" '
        '(e.g. ["sampling", "ollama:llama3.2"]); nothing is saved',
    )


class EnhanceResultOut(BaseModel):
    name: str | None = Field(default=None, description="The template's name")
    goal: str
    source: str = Field(description="The improved template file")
    diff: str = Field(description="Unified diff from the original source to the improved one")
    provider: str
    model: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_ms: float
    attempts: int = Field(description="Model calls it took to get a valid template")
    saved_version: int | None = Field(default=None, description="The new version, when saved")


class EnhanceFailureOut(BaseModel):
    provider: str
    model: str | None = None
    error: str


class EnhanceCandidateOut(BaseModel):
    ok: bool
    result: EnhanceResultOut | None = None
    failure: EnhanceFailureOut | None = None


class EnhanceOut(EnhanceResultOut):
    """One improved template; with ``compare``, its fields describe the first success, and every candidate."""

    candidates: list[EnhanceCandidateOut] | None = Field(
        default=None, description="With compare: each provider's result or failure, in the order asked"
    )
