"""The store's tables, declared as SQLModel classes. Rows never leave the store: callers get ``records.py``'s records.

The store builds only Core statements, on the classes' ``Table`` objects (``TEMPLATES``, ``VERSIONS``, …): ORM
statements over the classes cost each command ~80 ms of mapper configuration and ORM compilation on the first
query, and rows are never loaded as objects. The schema itself is made by the migrations; these must match them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Boolean, Column, Date, DateTime, Index, PrimaryKeyConstraint, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Timestamps are stored in UTC."""
    return datetime.now(UTC)


def _timestamp(*, nullable: bool = False, index: bool = False) -> datetime:
    column = Column(DateTime(timezone=True), nullable=nullable, index=index)
    return Field(default=None, sa_column=column)  # type: ignore[no-any-return]


class TemplateRow(SQLModel, table=True):
    """A template (or partial) and a pointer to its current version, with fields denormalized for listing."""

    __tablename__ = "templates"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, sa_column_kwargs={"unique": True})
    kind: str = Field(default="prompt", max_length=16)  # "prompt" or "partial"
    category: str | None = Field(default=None, max_length=200, index=True)
    title: str | None = Field(default=None)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    tags_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    arguments_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    # Internal templates are left out of every listing and search; reading and rendering by name still work.
    internal: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    current_version: int
    deleted_at: datetime | None = _timestamp(nullable=True)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class VersionRow(SQLModel, table=True):
    """An immutable version of a template; nothing ever updates or deletes one."""

    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("template_id", "version", name="uq_template_version"),)

    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="templates.id")
    version: int
    source: str = Field(sa_column=Column(Text, nullable=False))
    category: str | None = Field(default=None, max_length=200)
    content_hash: str = Field(max_length=64)
    message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    origin: str = Field(max_length=32)  # cli, import, seed, mcp, rollback, enhance, ...
    author: str | None = Field(default=None, max_length=200)  # cli, stdio, a token name; None before 0006
    created_at: datetime = _timestamp()
    # What validating the source found (templates/facts.py), so a first read need not parse it again;
    # NULL for partials, for versions written before it existed (filled on first read) and for odd values.
    facts_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class TagRow(SQLModel, table=True):
    """Tags of a template's current version, for filtering."""

    __tablename__ = "template_tags"

    template_id: int = Field(foreign_key="templates.id", primary_key=True)
    tag: str = Field(max_length=100, primary_key=True, index=True)


class RenderEventRow(SQLModel, table=True):
    """One render, for statistics and argument completion."""

    __tablename__ = "render_events"
    __table_args__ = (Index("ix_render_events_template_created", "template_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="templates.id")
    version: int
    duration_ms: float
    client: str | None = Field(default=None, max_length=200)
    arguments_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = _timestamp()


class MetaRow(SQLModel, table=True):
    """Store-wide facts, such as when the starter library was seeded."""

    __tablename__ = "store_meta"

    key: str = Field(primary_key=True, max_length=100)
    value: str = Field(sa_column=Column(Text, nullable=False))


class EnhancementEventRow(SQLModel, table=True):
    """One enhancement of a template by a model (saved or not), for statistics."""

    __tablename__ = "enhancement_events"
    __table_args__ = (Index("ix_enhancement_events_name_created", "template_name", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    template_name: str = Field(max_length=200)
    goal: str = Field(max_length=32)
    provider: str = Field(max_length=200)
    model: str = Field(max_length=200)
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_ms: float
    attempts: int
    saved: bool
    saved_version: int | None = None
    error: str | None = Field(default=None, max_length=64)  # the error code when the enhancement failed
    created_at: datetime = _timestamp()


class LabelRow(SQLModel, table=True):
    """A label: a named pointer from a template to one of its versions, with that version's listing fields."""

    __tablename__ = "template_labels"
    __table_args__ = (PrimaryKeyConstraint("template_id", "label"), Index("ix_template_labels_label", "label"))

    template_id: int = Field(foreign_key="templates.id")
    label: str = Field(max_length=100)
    version: int
    # Copies of the labelled version's title, description and arguments: prompts/list for a label reads no source.
    title: str | None = Field(default=None)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    arguments_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    updated_by: str = Field(max_length=200)
    updated_at: datetime = _timestamp()


class ChangeRow(SQLModel, table=True):
    """A change that makes no version: a label set, moved or removed, a template deleted or restored."""

    __tablename__ = "template_changes"
    __table_args__ = (Index("ix_template_changes_template", "template_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="templates.id")
    action: str = Field(max_length=32)  # label, unlabel, delete, restore
    label: str | None = Field(default=None, max_length=100)
    from_version: int | None = None
    to_version: int | None = None
    author: str = Field(max_length=200)
    created_at: datetime = _timestamp()


class UsageDayRow(SQLModel, table=True):
    """Renders of one template version through one label by one client on one day (UTC).

    Rows are merged on write where possible; readers always sum, so two processes adding the same key at the
    same moment (two rows) count right.
    """

    __tablename__ = "usage_daily"
    __table_args__ = (Index("ix_usage_daily_template_day", "template_id", "day"), Index("ix_usage_daily_day", "day"))

    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="templates.id")
    day: date = Field(sa_column=Column(Date, nullable=False))
    version: int
    label: str = Field(default="", max_length=100)  # "" for a render of an explicit version
    client: str = Field(default="", max_length=200)
    renders: int = 0
    errors: int = 0
    total_ms: float = 0.0
    last_used_at: datetime = _timestamp()
    histogram_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # bucket -> count


class TokenRow(SQLModel, table=True):
    """One API token. A revoked token keeps its row (so its name stays known) until the name is reused."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True})
    secret_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})  # only the SHA-256 of the secret
    scope: str = Field(max_length=16)
    label: str | None = Field(default=None, max_length=200)
    created_at: datetime = _timestamp()
    expires_at: datetime | None = _timestamp(nullable=True)
    revoked_at: datetime | None = _timestamp(nullable=True)
    last_used_at: datetime | None = _timestamp(nullable=True)


# The tables the store's statements are built on.
METADATA = SQLModel.metadata
TEMPLATES = METADATA.tables[TemplateRow.__tablename__]
VERSIONS = METADATA.tables[VersionRow.__tablename__]
TAGS = METADATA.tables[TagRow.__tablename__]
RENDER_EVENTS = METADATA.tables[RenderEventRow.__tablename__]
META = METADATA.tables[MetaRow.__tablename__]
ENHANCEMENT_EVENTS = METADATA.tables[EnhancementEventRow.__tablename__]
LABELS = METADATA.tables[LabelRow.__tablename__]
CHANGES = METADATA.tables[ChangeRow.__tablename__]
USAGE_DAILY = METADATA.tables[UsageDayRow.__tablename__]
TOKENS = METADATA.tables[TokenRow.__tablename__]
