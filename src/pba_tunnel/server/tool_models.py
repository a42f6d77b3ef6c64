"""Input and output models of the MCP tools; their JSON Schemas are the tools' schemas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from ..config import MAX_VERSION
from ..enhance.models import EnhanceFailure, EnhanceResult
from ..rendering import RenderedMessage
from ..search.models import SearchResult
from ..store.records import ChangeInfo, StoredTemplate, TemplateSummary, UsageStat, VersionInfo, WriteResult

# Tool outputs are the domain's own models where one exists: one shape for the CLI's --json and for MCP.
SearchOut = SearchResult
DetailOut = StoredTemplate
WriteOut = WriteResult

Name = Field(description="Template name (its MCP prompt name), e.g. code-review", min_length=1, max_length=200)


class Input(BaseModel):
    """Tool inputs reject unknown keys so typos surface instead of being ignored."""

    model_config = ConfigDict(extra="forbid")


class ArgumentValue(BaseModel):
    """One argument value, as OpenAI's strict tool mode needs it (no open objects in a schema)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Argument name, as the template declares it")
    value: str = Field(description="Its value as text (converted to the declared type)")


def _argument_pairs(value: Any) -> Any:
    """Accept ``[{name, value}, ...]`` (the advertised shape) as well as a plain ``{name: value}`` object."""
    if isinstance(value, list):
        pairs: dict[str, Any] = {}
        for item in value:
            pair = ArgumentValue.model_validate(item)
            if pair.name in pairs:
                raise ValueError(f"argument {pair.name!r} is given twice")
            pairs[pair.name] = pair.value
        return pairs
    return value


# Advertised as a list of name/value pairs (every client, OpenAI strict mode included, can produce it); an object
# {"name": "value"} is accepted too, since that is what most models write first.
RenderArguments = Annotated[
    dict[str, Any],
    BeforeValidator(_argument_pairs),
    WithJsonSchema(
        {
            "type": "array",
            "items": ArgumentValue.model_json_schema(),
            "description": 'Argument values, e.g. [{"name": "language", "value": "python"}] (an object '
            '{"language": "python"} is accepted too)',
        }
    ),
]


class RenderInput(Input):
    name: str = Name
    arguments: RenderArguments = Field(default_factory=dict)
    version: int | None = Field(
        default=None, ge=1, le=MAX_VERSION, description="Render this version instead of the current one"
    )


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
    version: int | None = Field(
        default=None, ge=1, le=MAX_VERSION, description="A given version instead of the current one"
    )


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
        le=MAX_VERSION,
        description="Refuse the update unless this is still "
        "the current version (protects against overwriting someone's change)",
    )
    message: str | None = Field(default=None, description="What changed and why (kept in the history)")


class RollbackInput(Input):
    name: str = Name
    version: int = Field(ge=1, le=MAX_VERSION, description="The version whose content becomes current again")


class DiffInput(Input):
    name: str = Name
    from_version: int = Field(ge=1, le=MAX_VERSION, description="Older version")
    to_version: int = Field(ge=1, le=MAX_VERSION, description="Newer version")


class RenderOut(BaseModel):
    name: str
    version: int
    messages: list[RenderedMessage]
    text: str = Field(description="The messages' contents joined by blank lines")


class ListOut(BaseModel):
    templates: list[TemplateSummary]
    next_cursor: str | None = None


class StateOut(BaseModel):
    name: str
    deleted: bool
    changed: bool = Field(description="False when the template already was in that state")


class HistoryOut(BaseModel):
    name: str
    versions: list[VersionInfo]
    labels: dict[str, int] = Field(default_factory=dict, description="Each label and the version it points at")
    changes: list[ChangeInfo] = Field(
        default_factory=list, description="Label moves, deletes and restores (who, when, from, to), oldest first"
    )


Label = Field(
    description="Label name: production, staging or any lowercase slug ('latest' always means the newest version)",
    min_length=1,
    max_length=100,
)


class SetLabelInput(Input):
    name: str = Name
    label: str = Label
    version: int | None = Field(default=None, ge=1, le=MAX_VERSION, description="The version (default: the newest)")
    expected_version: int | None = Field(
        default=None,
        ge=1,
        le=MAX_VERSION,
        description="Refuse unless the label points at this version now (protects against moving it over "
        "someone's move)",
    )


class RemoveLabelInput(Input):
    name: str = Name
    label: str = Label
    expected_version: int | None = Field(
        default=None, ge=1, le=MAX_VERSION, description="Refuse unless the label points at this version now"
    )


class LabelOut(BaseModel):
    name: str
    label: str
    from_version: int | None = Field(description="Where the label pointed before (null: it did not exist)")
    to_version: int | None = Field(description="Where it points now (null: removed)")
    changed: bool


class StatsInput(Input):
    name: str | None = Field(default=None, min_length=1, max_length=200, description="Only this template")
    since_days: int = Field(default=7, ge=1, le=3650, description="The last this many days (UTC), today included")
    by: Literal["template", "client", "label", "version"] = Field(
        default="template", description="One row per template, or per template and client, label or version"
    )


class UnusedOut(BaseModel):
    name: str
    last_used: datetime | None = Field(description="Last render within the kept days, if any")


class StatsOut(BaseModel):
    since: date
    by: str
    stats: list[UsageStat] = Field(description="Most used first; render times in milliseconds")
    unused: list[UnusedOut] = Field(description="Listed templates nobody rendered in the period")


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


class EnhanceCandidateOut(BaseModel):
    ok: bool
    result: EnhanceResult | None = None
    failure: EnhanceFailure | None = None


class EnhanceOut(EnhanceResult):
    """One improved template; with ``compare``, its fields describe the first success, and every candidate."""

    candidates: list[EnhanceCandidateOut] | None = Field(
        default=None, description="With compare: each provider's result or failure, in the order asked"
    )
