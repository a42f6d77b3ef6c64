"""Full-text index of templates (SQLite FTS5; other databases get theirs in their own revision).

Revision ID: 0002_fulltext
Revises: 0001_initial
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

from pba_tunnel.store.fulltext import CREATE, TABLE

revision = "0002_fulltext"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the FTS5 table; the store fills it right after migrating."""
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(CREATE)


def downgrade() -> None:
    """Drop the index."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TABLE IF EXISTS {TABLE}")
