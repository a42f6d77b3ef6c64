"""Parse once: each version keeps what validating its source found; the SQLite index keeps no copy of the text.

Revision ID: 0008_parse_once
Revises: 0007_tokens
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pba_tunnel.store.fulltext import COLUMNS, CONTENT, REBUILD_STATEMENTS, TABLE

revision = "0008_parse_once"
down_revision = "0007_tokens"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add template_versions.facts_json (NULL for versions already stored: the service fills it on first read);
    on SQLite, make the full-text index an external-content table over a view, and fill it."""
    op.add_column("template_versions", sa.Column("facts_json", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        for statement in REBUILD_STATEMENTS:
            op.execute(statement)


def downgrade() -> None:
    """Drop the column (a table copy on SQLite); on SQLite, the index keeps its own copy of the text again."""
    if op.get_bind().dialect.name == "sqlite":
        columns = ", ".join(COLUMNS)
        op.execute(f"DROP TABLE IF EXISTS {TABLE}")
        op.execute(f"CREATE VIRTUAL TABLE {TABLE} USING fts5({columns}, tokenize = 'porter unicode61', prefix = '2 3')")
        op.execute(f"INSERT INTO {TABLE}(rowid, {columns}) SELECT id, {columns} FROM {CONTENT}")
        op.execute(f"DROP VIEW IF EXISTS {CONTENT}")
    with op.batch_alter_table("template_versions") as batch:
        batch.drop_column("facts_json")
