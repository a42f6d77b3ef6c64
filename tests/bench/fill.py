"""Fill a store with many generated templates through the product's bulk path (``TemplateService.save_batch``).

The rows are written the way ``pba-tunnel import`` writes them (versions, tags, full-text index, in batches),
without parsing each one: the generators know every field already, and may pass the parse facts along.
Nothing else may have the store open.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from pba_tunnel.config import Settings, load_settings
from pba_tunnel.errors import PbaError
from pba_tunnel.service import TemplateService
from pba_tunnel.store import BatchItem, TemplateWrite
from pba_tunnel.templates.parsing import content_hash
from pba_tunnel.templates.spec import ArgumentSpec

BATCH = 2000


@dataclass
class Row:
    """One template to store: its source and the fields the store keeps beside it for listing."""

    name: str
    source: str
    description: str
    title: str | None = None
    tags: list[str] = field(default_factory=list)
    arguments: list[dict[str, object]] = field(default_factory=list)
    facts_json: str | None = None  # what parsing the source would find (templates/facts.py), when known


def bench_settings(home: Path, database_url: str | None = None) -> Settings:
    """Settings for an unseeded store under ``home`` (or at ``database_url``)."""
    env = {"PBA_TUNNEL_HOME": str(home), "PBA_TUNNEL_SEED": "0"}
    return load_settings(env | ({"PBA_TUNNEL_DATABASE_URL": database_url} if database_url else {}))


def cli_env(home: Path) -> dict[str, str]:
    """This process's environment minus PBA_TUNNEL_* and PYTHONDONTWRITEBYTECODE, plus a quiet, unseeded store under
    ``home``."""
    # Start-up is mostly imports: without the bytecode cache a user's Python keeps, each would compile them again.
    dropped = ("PBA_TUNNEL_", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
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
    """Create the store under ``home`` or at ``database_url`` and write ``rows`` to it in batches; returns how
    many were written."""
    service = await TemplateService.open(bench_settings(home, database_url))  # applies every migration
    count = 0
    try:
        for batch in _batches(rows):
            items = [BatchItem(_write(row), "bench fill") for row in batch]
            refused = [r for r in await service.save_batch(items, origin=origin) if isinstance(r, PbaError)]
            if refused:
                raise RuntimeError(f"the bench fill was refused: {refused[0].message}")
            count += len(batch)
    finally:
        await service.close()
    return count


def _write(row: Row) -> TemplateWrite:
    return TemplateWrite(
        name=row.name,
        title=row.title,
        description=row.description,
        tags=row.tags,
        arguments=[ArgumentSpec.model_validate(a) for a in row.arguments],
        source=row.source,
        content_hash=content_hash(row.source, None),
        facts_json=row.facts_json,
    )


async def fill_store(home: Path, rows: Iterable[Row]) -> int:
    """A store under ``home`` holding ``rows``, full-text indexed; returns how many were written."""
    return await insert_rows(home, rows)
