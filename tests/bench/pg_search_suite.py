"""The PostgreSQL search suite: tsvector search and a prompts/list page at 100k templates, each against a scan.

It starts a throwaway PostgreSQL server (``tests/postgres_server.py``) or uses ``--pg-url``, fills a database with
the search suite's generated corpus, and times through the service API what clients call: one page of
``prompts/list`` (against reading every name), and top-10 searches for mid-frequency and common terms (against
an ``ILIKE '%term%'`` scan of the same rows, in the same run).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import anyio
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from pba_tunnel.service import TemplateService
from pba_tunnel.store.cursors import encode_cursor
from pba_tunnel.store.models import TEMPLATES, VERSIONS

from .fill import Row, bench_settings, insert_rows
from .report import Figure, p50
from .search_suite import _corpus, _document_frequencies, _pick

TARGETS = {"mid-frequency": 15.0, "common": 60.0}


def _ms(samples: list[float]) -> float:
    return p50(samples) * 1000


async def _timed(action: Callable[[], object], repeats: int) -> list[float]:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        await action()  # type: ignore[misc]
        timings.append(time.perf_counter() - started)
    return timings


async def _stored(url: str) -> int | None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(text("SELECT count(*) FROM templates"))).scalar_one())
    except DBAPIError:
        return None  # no store there yet
    finally:
        await engine.dispose()


async def _run(url: str, count: int, repeats: int, log: Callable[[str], None]) -> list[Figure]:
    rows = _corpus(count)
    frequencies = _document_frequencies(rows)
    terms = {
        "mid-frequency": _pick(frequencies, 0.005, 0.02, count, 5),
        "common": _pick(frequencies, 0.3, 0.6, count, 5),
    }
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="pba-bench-pg-") as tmp:
        home = Path(tmp)
        if await _stored(url) == count:  # a database filled by an earlier run (--pg-url): measure again
            log(f"reusing the {count:,} templates stored at {url.split('@')[-1]}")
        else:
            log(f"storing and indexing {count:,} templates in PostgreSQL ...")
            started = time.perf_counter()
            await insert_rows(
                home,
                (
                    Row(
                        name,
                        f"---\nname: {name}\ntitle: {title}\ndescription: {description}\n---\n{body}\n",
                        description,
                        title,
                    )
                    for name, title, description, body in rows
                ),
                database_url=url,
            )
            log(f"  {time.perf_counter() - started:.1f} s")
        settings = bench_settings(home, url)
        service = await TemplateService.open(settings)
        engine = create_async_engine(url)
        templates, versions = TEMPLATES, VERSIONS
        try:
            async with engine.connect() as connection:
                await connection.execute(select(func.count()).select_from(templates))
                await connection.exec_driver_sql("ANALYZE")
            # One page of prompts/list from the middle of the store, against reading every listed name.
            middle = rows[count // 2][0]
            page = await _timed(lambda: service.prompt_rows(cursor=encode_cursor(middle), limit=100), repeats)
            async with engine.connect() as connection:
                names = select(templates.c.name).where(templates.c.deleted_at.is_(None)).order_by(templates.c.name)
                every = await _timed(lambda: connection.execute(names), max(3, repeats // 20))
            page_ms, every_ms = _ms(page), _ms(every)
            figures.append(
                Figure(
                    "pg_list_page",
                    f"one prompts/list page (100 rows) on PostgreSQL, {count:,} stored",
                    page_ms,
                    "ms",
                    "reading every name",
                    every_ms,
                    page_ms / every_ms,
                    "≤ 5 ms",
                    page_ms <= 5,
                )
            )
            like = (
                select(templates.c.name)
                .join(
                    versions,
                    (versions.c.template_id == templates.c.id) & (versions.c.version == templates.c.current_version),
                )
                .where(templates.c.deleted_at.is_(None), versions.c.source.ilike(bindparam("pattern")))
            )
            for label, words in terms.items():
                if not words:
                    log(f"no {label} terms in this corpus; skipped")
                    continue
                searches, scans = [], []
                for word in words:
                    await service.search(word, limit=10)
                    searches += await _timed(lambda w=word: service.search(w, limit=10), repeats)  # type: ignore[misc]
                    async with engine.connect() as connection:
                        scans += await _timed(
                            lambda w=word, c=connection: c.execute(like, {"pattern": f"%{w}%"}),  # type: ignore[misc]
                            max(1, repeats // 10),
                        )
                search_ms, scan_ms = _ms(searches), _ms(scans)
                share = statistics.mean(frequencies[w] for w in words) / count
                limit = TARGETS[label]
                figures.append(
                    Figure(
                        f"pg_search_{label.split('-')[0]}",
                        f"top-10 search on PostgreSQL, {label} term (in {share:.2%} of {count:,} templates)",
                        search_ms,
                        "ms",
                        "ILIKE '%term%' scan",
                        scan_ms,
                        search_ms / scan_ms,
                        f"≤ {limit:g} ms and ≥ 10x faster than the scan",
                        search_ms <= limit and scan_ms / search_ms >= 10,
                    )
                )
        finally:
            await engine.dispose()
            await service.close()
    return figures


def run_pg_search(*, templates: int, repeats: int, log: Callable[[str], None], url: str | None = None) -> list[Figure]:
    """Fill a PostgreSQL database (a throwaway server unless ``url``) and time list pages and searches."""
    if url is not None:
        return anyio.run(_run, url, templates, repeats, log)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, where the throwaway server lives
    from postgres_server import PostgresServer

    server = PostgresServer.create()
    try:
        server.start()
        return anyio.run(_run, server.create_database("bench"), templates, repeats, log)
    finally:
        server.destroy()
