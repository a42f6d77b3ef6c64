"""Alembic environment: runs on the connection the store hands over (see ``store/migrate.py``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from pba_tunnel.store.models import METADATA

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `pba-tunnel db upgrade`, which supplies the database connection")

context.configure(connection=connection, target_metadata=METADATA, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
