"""The store's tables, as SQLAlchemy Core tables. Rows never leave the store: callers get the records of ``records.py``.

Core, not ORM classes: the store only ever builds Core statements, and declaring the tables as mapped classes
cost each command ~0.1 s of start-up (class construction, mapper configuration on the first query). The schema
itself is made by the migrations; these declarations must match them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

METADATA = MetaData()


def utcnow() -> datetime:
    """Timestamps are stored in UTC."""
    return datetime.now(UTC)


def _id() -> Column[int]:
    return Column("id", Integer, primary_key=True)


def _template_id(*, primary_key: bool = False) -> Column[int]:
    return Column("template_id", Integer, ForeignKey("templates.id"), primary_key=primary_key, nullable=False)


def _timestamp(name: str, *, nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(name, DateTime(timezone=True), nullable=nullable, index=index)


# A template (or partial) and a pointer to its current version, with fields denormalized for listing.
TEMPLATES = Table(
    "templates",
    METADATA,
    _id(),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(16), nullable=False, default="prompt"),  # "prompt" or "partial"
    Column("category", String(200), index=True),
    Column("title", String),
    Column("description", Text, nullable=False),
    Column("tags_json", Text, nullable=False),
    Column("arguments_json", Text, nullable=False),
    # Internal templates are left out of every listing and search; reading and rendering by name still work.
    Column("internal", Boolean, nullable=False, server_default=false()),
    Column("current_version", Integer, nullable=False),
    _timestamp("deleted_at", nullable=True),
    _timestamp("created_at"),
    _timestamp("updated_at"),
)

# An immutable version of a template; nothing ever updates or deletes one.
VERSIONS = Table(
    "template_versions",
    METADATA,
    _id(),
    _template_id(),
    Column("version", Integer, nullable=False),
    Column("source", Text, nullable=False),
    Column("category", String(200)),
    Column("content_hash", String(64), nullable=False),
    Column("message", Text),
    Column("origin", String(32), nullable=False),  # cli, import, seed, mcp, rollback, enhance, ...
    Column("author", String(200)),  # cli, stdio, a token name; None before 0006
    _timestamp("created_at"),
    # What validating the source found (templates/facts.py), so a first read need not parse it again;
    # NULL for partials, for versions written before it existed (filled on first read) and for odd values.
    Column("facts_json", Text),
    UniqueConstraint("template_id", "version", name="uq_template_version"),
)

# Tags of a template's current version, for filtering.
TAGS = Table(
    "template_tags",
    METADATA,
    _template_id(primary_key=True),
    Column("tag", String(100), primary_key=True, index=True),
)

# One render, for statistics and argument completion.
RENDER_EVENTS = Table(
    "render_events",
    METADATA,
    _id(),
    _template_id(),
    Column("version", Integer, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("client", String(200)),
    Column("arguments_json", Text),
    _timestamp("created_at"),
    Index("ix_render_events_template_created", "template_id", "created_at"),
)

# Store-wide facts, such as when the starter library was seeded.
META = Table(
    "store_meta",
    METADATA,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

# One enhancement of a template by a model (saved or not), for statistics.
ENHANCEMENT_EVENTS = Table(
    "enhancement_events",
    METADATA,
    _id(),
    Column("template_name", String(200), nullable=False),
    Column("goal", String(32), nullable=False),
    Column("provider", String(200), nullable=False),
    Column("model", String(200), nullable=False),
    Column("input_tokens", Integer),
    Column("output_tokens", Integer),
    Column("latency_ms", Float, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("saved", Boolean, nullable=False),
    Column("saved_version", Integer),
    Column("error", String(64)),  # the error code when the enhancement failed
    _timestamp("created_at"),
    Index("ix_enhancement_events_name_created", "template_name", "created_at"),
)

# A label: a named pointer from a template to one of its versions, with that version's listing fields.
LABELS = Table(
    "template_labels",
    METADATA,
    _template_id(),
    Column("label", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    # Copies of the labelled version's title, description and arguments: prompts/list for a label reads no source.
    Column("title", String),
    Column("description", Text, nullable=False),
    Column("arguments_json", Text, nullable=False),
    Column("updated_by", String(200), nullable=False),
    _timestamp("updated_at"),
    PrimaryKeyConstraint("template_id", "label"),
    Index("ix_template_labels_label", "label"),
)

# A change that makes no version: a label set, moved or removed, a template deleted or restored.
CHANGES = Table(
    "template_changes",
    METADATA,
    _id(),
    _template_id(),
    Column("action", String(32), nullable=False),  # label, unlabel, delete, restore
    Column("label", String(100)),
    Column("from_version", Integer),
    Column("to_version", Integer),
    Column("author", String(200), nullable=False),
    _timestamp("created_at"),
    Index("ix_template_changes_template", "template_id", "id"),
)

# Renders of one template version through one label by one client on one day (UTC). Rows are merged on write
# where possible; readers always sum, so two processes adding the same key at the same moment (two rows) count right.
USAGE_DAILY = Table(
    "usage_daily",
    METADATA,
    _id(),
    _template_id(),
    Column("day", Date, nullable=False),
    Column("version", Integer, nullable=False),
    Column("label", String(100), nullable=False, default=""),  # "" for a render of an explicit version
    Column("client", String(200), nullable=False, default=""),
    Column("renders", Integer, nullable=False, default=0),
    Column("errors", Integer, nullable=False, default=0),
    Column("total_ms", Float, nullable=False, default=0.0),
    _timestamp("last_used_at"),
    Column("histogram_json", Text, nullable=False),  # bucket -> count
    Index("ix_usage_daily_template_day", "template_id", "day"),
    Index("ix_usage_daily_day", "day"),
)

# One API token. A revoked token keeps its row (so its name stays known) until the name is reused.
TOKENS = Table(
    "api_tokens",
    METADATA,
    _id(),
    Column("name", String(100), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False, unique=True),  # only the SHA-256 of the secret
    Column("scope", String(16), nullable=False),
    Column("label", String(200)),
    _timestamp("created_at"),
    _timestamp("expires_at", nullable=True),
    _timestamp("revoked_at", nullable=True),
    _timestamp("last_used_at", nullable=True),
)
