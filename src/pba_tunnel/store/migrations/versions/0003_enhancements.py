"""Enhancement events: one row per template enhancement, for statistics.

Revision ID: 0003_enhancements
Revises: 0002_fulltext
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_enhancements"
down_revision = "0002_fulltext"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the enhancement_events table (by name, not by id: raw sources have no stored template)."""
    op.create_table(
        "enhancement_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("template_name", sa.String(200), nullable=False),
        sa.Column("goal", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(200), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=True),
        sa.Column("output_tokens", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("saved", sa.Boolean(), nullable=False),
        sa.Column("saved_version", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_enhancement_events_name_created", "enhancement_events", ["template_name", "created_at"])


def downgrade() -> None:
    """Drop the table."""
    op.drop_index("ix_enhancement_events_name_created", table_name="enhancement_events")
    op.drop_table("enhancement_events")
