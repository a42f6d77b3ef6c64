"""Full-text search on PostgreSQL: a weighted tsvector table kept by triggers, GIN and trigram indexes.

A no-op on SQLite, whose FTS5 index came with 0002_fulltext.

Revision ID: 0005_postgres_search
Revises: 0004_internal
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

from pba_tunnel.store.pg_fulltext import DROP, SCHEMA

revision = "0005_postgres_search"
down_revision = "0004_internal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the search configuration, table, indexes and triggers, and index every live prompt."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in SCHEMA:
        op.execute(statement)


def downgrade() -> None:
    """Drop the search table, its triggers and configuration."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in DROP:
        op.execute(statement)
