"""Labels, authors and daily usage: who wrote each version, named pointers to versions, render counts per day.

Revision ID: 0006_labels_stats
Revises: 0005_postgres_search
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_labels_stats"
down_revision = "0005_postgres_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add template_versions.author and the template_labels, template_changes and usage_daily tables."""
    op.add_column("template_versions", sa.Column("author", sa.String(200), nullable=True))
    op.create_table(
        "template_labels",
        sa.Column("template_id", sa.Integer(), sa.ForeignKey("templates.id"), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("arguments_json", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("template_id", "label"),
    )
    op.create_index("ix_template_labels_label", "template_labels", ["label"])
    op.create_table(
        "template_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("template_id", sa.Integer(), sa.ForeignKey("templates.id"), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("label", sa.String(100), nullable=True),
        sa.Column("from_version", sa.Integer(), nullable=True),
        sa.Column("to_version", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_template_changes_template", "template_changes", ["template_id", "id"])
    op.create_table(
        "usage_daily",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("template_id", sa.Integer(), sa.ForeignKey("templates.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("client", sa.String(200), nullable=False),
        sa.Column("renders", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("total_ms", sa.Float(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("histogram_json", sa.Text(), nullable=False),
    )
    op.create_index("ix_usage_daily_template_day", "usage_daily", ["template_id", "day"])
    op.create_index("ix_usage_daily_day", "usage_daily", ["day"])


def downgrade() -> None:
    """Drop the tables and the column (a table copy on SQLite)."""
    op.drop_index("ix_usage_daily_day", table_name="usage_daily")
    op.drop_index("ix_usage_daily_template_day", table_name="usage_daily")
    op.drop_table("usage_daily")
    op.drop_index("ix_template_changes_template", table_name="template_changes")
    op.drop_table("template_changes")
    op.drop_index("ix_template_labels_label", table_name="template_labels")
    op.drop_table("template_labels")
    with op.batch_alter_table("template_versions") as batch:
        batch.drop_column("author")
