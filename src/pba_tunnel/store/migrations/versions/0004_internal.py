"""Internal templates: a flag that keeps a template out of listings and search (enhance instructions).

Revision ID: 0004_internal
Revises: 0003_enhancements
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_internal"
down_revision = "0003_enhancements"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add templates.internal, false for every template already stored (a plain ADD COLUMN everywhere)."""
    op.add_column("templates", sa.Column("internal", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    """Drop the column (a table copy on SQLite)."""
    with op.batch_alter_table("templates") as batch:
        batch.drop_column("internal")
