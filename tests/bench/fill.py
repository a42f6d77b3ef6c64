"""Fill a store with many generated templates fast: SQLAlchemy Core inserts over the store's table models.

Bench-only: the product writes one template at a time through the service. Here the rows are written
straight into a store the service created (so its schema is current), then ``pba-tunnel db reindex``
builds the full-text index the way a user would after a bulk load. Nothing else may have the store open.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from pba_tunnel.config import Settings, load_settings
from pba_tunnel.service import TemplateService
from pba_tunnel.store.models import TagRow, TemplateRow, VersionRow, utcnow
from pba_tunnel.templates.parsing import content_hash

BATCH = 5000


@dataclass
class Row:
    """One template to store: its source and the fields the store keeps beside it for listing."""

    name: str
    source: str
    description: str
    title: str | None = None
    tags: list[str] = field(default_factory=list)
    arguments: list[dict[str, object]] = field(default_factory=list)


def bench_settings(home: Path, database_url: str | None = None) -> Settings:
    """Settings for an unseeded store under ``home`` (or at ``database_url``)."""
    env = {"PBA_TUNNEL_HOME": str(home), "PBA_TUNNEL_SEED": "0"}
    return load_settings(env | ({"PBA_TUNNEL_DATABASE_URL": database_url} if database_url else {}))


def cli_env(home: Path) -> dict[str, str]:
    """This process's environment minus PBA_TUNNEL_*, plus a quiet, unseeded store under ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PBA_TUNNEL_")}
    env.update(PBA_TUNNEL_HOME=str(home), PBA_TUNNEL_LOG_LEVEL="error", PBA_TUNNEL_SEED="0")
    return env


def run_cli(home: Path, *args: str) -> None:
    """``pba-tunnel ARGS`` on the store under ``home``; RuntimeError when it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "pba_tunnel", *args], env=cli_env(home), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"pba-tunnel {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")


def _batches(rows: Iterable[Row]) -> Iterator[list[Row]]:
    it = iter(rows)
    while batch := list(islice(it, BATCH)):
        yield batch


async def insert_rows(
    home: Path, rows: Iterable[Row], *, origin: str = "bench", database_url: str | None = None
) -> int:
    """Create the store under ``home`` or at ``database_url`` and add ``rows`` (SQLite's full-text index is built
    after, by ``db reindex``; PostgreSQL's triggers index as rows arrive); returns how many were written."""
    settings = bench_settings(home, database_url)
    service = await TemplateService.open(settings)  # creates the file and applies every migration
    await service.close()
    engine = create_async_engine(settings.database_url)
    templates, versions = TemplateRow.__table__, VersionRow.__table__  # type: ignore[attr-defined]
    count = 0
    try:
        for batch in _batches(rows):
            now = utcnow()
            async with engine.begin() as connection:
                await connection.execute(
                    insert(templates),
                    [
                        {
                            "name": r.name,
                            "kind": "prompt",
                            "title": r.title,
                            "description": r.description,
                            "tags_json": json.dumps(r.tags),
                            "arguments_json": json.dumps(r.arguments),
                            "current_version": 1,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for r in batch
                    ],
                )
                names = [r.name for r in batch]
                ids: dict[str, int] = {}
                for start in range(0, len(names), 900):  # stay under SQLite's bound-parameter limit
                    found = await connection.execute(
                        select(templates.c.name, templates.c.id).where(templates.c.name.in_(names[start : start + 900]))
                    )
                    ids.update({row.name: row.id for row in found})
                await connection.execute(
                    insert(versions),
                    [
                        {
                            "template_id": ids[r.name],
                            "version": 1,
                            "source": r.source,
                            "content_hash": content_hash(r.source, None),
                            "message": "bench fill",
                            "origin": origin,
                            "created_at": now,
                        }
                        for r in batch
                    ],
                )
                tags = [{"template_id": ids[r.name], "tag": t} for r in batch for t in sorted(set(r.tags))]
                if tags:
                    await connection.execute(insert(TagRow.__table__), tags)  # type: ignore[attr-defined]
            count += len(batch)
    finally:
        await engine.dispose()
    return count


async def fill_store(home: Path, rows: Iterable[Row]) -> int:
    """A store under ``home`` holding ``rows``, full-text indexed; returns how many were written."""
    count = await insert_rows(home, rows)
    run_cli(home, "db", "reindex")
    return count
