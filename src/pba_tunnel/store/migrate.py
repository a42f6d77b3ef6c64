"""Schema migrations: a cheap revision check on every start, Alembic only when something is pending."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..errors import StoreError
from .dialects import Dialect

# The newest migration in migrations/versions; a test keeps it equal to Alembic's head. Comparing against a
# constant lets a start with nothing pending skip importing Alembic (about 100 ms).
HEAD_REVISION = "0008_parse_once"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


async def current_revision(connection: AsyncConnection) -> str | None:
    """The revision the database is at, or None for a database without our schema."""
    has_table = await connection.run_sync(lambda sync: inspect(sync).has_table("alembic_version"))
    if not has_table:
        return None
    row = (await connection.execute(text("SELECT version_num FROM alembic_version"))).first()
    return None if row is None else str(row[0])


def alembic_config(connection: Any = None) -> Any:
    """An Alembic config pointing at the bundled migrations (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _upgrade(sync_connection: Any) -> None:
    from alembic import command
    from alembic.util import CommandError

    try:
        command.upgrade(alembic_config(sync_connection), "head")
    except CommandError as exc:  # e.g. a revision this version does not know: the store is from a newer release
        where = sync_connection.engine.url.render_as_string(hide_password=True)
        raise StoreError(
            f"the schema of the store {where} cannot be migrated ({exc}); if a newer pba-tunnel created it, "
            "upgrade mcp-pba-tunnel"
        ) from None


async def upgrade(engine: AsyncEngine, dialect: Dialect) -> bool:
    """Bring the schema to the newest revision; return True when a migration ran."""
    async with engine.connect() as connection:
        if await current_revision(connection) == HEAD_REVISION:
            return False
    async with engine.connect() as connection:
        await connection.execution_options(**dialect.write_options())
        async with connection.begin():
            await dialect.lock_schema(connection)
            # Re-check under the lock: another process may have migrated while we waited.
            if await current_revision(connection) == HEAD_REVISION:
                return False
            await connection.run_sync(_upgrade)
    return True
