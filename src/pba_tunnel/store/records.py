"""Plain pydantic records the store returns; table rows never leave it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from ..templates.spec import ArgumentSpec

Kind = Literal["prompt", "partial"]
T = TypeVar("T")


class TemplateSummary(BaseModel):
    """What listing shows of a template."""

    name: str
    kind: Kind = "prompt"
    title: str | None = None
    description: str = ""
    category: str | None = None
    tags: list[str] = Field(default_factory=list)
    arguments: list[ArgumentSpec] = Field(default_factory=list)
    internal: bool = False
    version: int
    deleted: bool = False
    updated_at: datetime


class StoredTemplate(TemplateSummary):
    """One version of a template with its source."""

    source: str
    content_hash: str
    current_version: int
    message: str | None = None
    origin: str
    author: str | None = None  # who wrote this version (None for versions stored before authors were kept)
    created_at: datetime
    labels: dict[str, int] = Field(default_factory=dict)  # every label of the template and its version


class VersionInfo(BaseModel):
    """One entry of a template's history."""

    version: int
    content_hash: str
    message: str | None
    origin: str
    author: str | None = None
    created_at: datetime
    current: bool
    labels: list[str] = Field(default_factory=list)  # the labels pointing at this version


ChangeAction = Literal["label", "unlabel", "delete", "restore"]


class ChangeInfo(BaseModel):
    """A change that made no version: a label set/moved/removed, a delete or a restore; who and when."""

    action: ChangeAction
    label: str | None = None
    from_version: int | None = None
    to_version: int | None = None
    author: str
    created_at: datetime


class WriteResult(BaseModel):
    """The outcome of a write: the version now current and what happened."""

    name: str
    version: int
    created: bool = False
    changed: bool = True
    restored: bool = False


class Page(BaseModel, Generic[T]):
    """One page of a listing; pass ``next_cursor`` back to get the next one."""

    items: list[T]
    next_cursor: str | None = None


@dataclass(slots=True)
class RenderEvent:
    """One render, as recorded for statistics and completion (a dataclass: one is made per render)."""

    name: str
    version: int
    duration_ms: float
    client: str | None
    arguments: dict[str, Any] | None
    created_at: datetime
    label: str | None = None  # the label the version was reached through ("latest" for the current one)
    error: str | None = None  # the error code of a failed render


class UsageStat(BaseModel):
    """Renders of a template (of one client, label or version when grouped) over a period."""

    name: str
    group: str | None = Field(default=None, description="The client, label or version, when grouped by one")
    renders: int
    errors: int
    last_used: datetime
    p50_ms: float = Field(description="Median render time (the upper bound of its histogram bucket: at most 25% above)")
    p95_ms: float


class TemplateWrite(BaseModel):
    """Everything the store needs to write a version (the service fills it from a parsed template)."""

    name: str
    kind: Kind = "prompt"
    category: str | None = None
    title: str | None = None
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    arguments: list[ArgumentSpec] = Field(default_factory=list)
    internal: bool = False
    source: str
    content_hash: str
    facts_json: str | None = None  # what validation found (templates/facts.py), kept with the version


class EnhancementEvent(BaseModel):
    """One enhancement, as recorded for statistics (``created_at`` is filled by the store when None)."""

    name: str
    goal: str
    provider: str
    model: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_ms: float
    attempts: int
    saved: bool
    saved_version: int | None = None
    error: str | None = None  # the error code of a failed enhancement
    created_at: datetime | None = None
