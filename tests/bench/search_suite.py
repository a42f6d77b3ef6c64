"""The search suite: FTS5 through the service API against a LIKE scan of the same table, in the same run.

The corpus is generated: ~1 KB of text a template, words drawn from a Zipf-like distribution over a
synthetic vocabulary, so some words are in most templates, some in ~1 %, some in a handful. Terms of each
class are picked by their measured document frequency, not assumed.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import anyio
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import create_async_engine

from pba_tunnel.service import TemplateService
from pba_tunnel.store.models import TEMPLATES, VERSIONS

from .fill import Row, bench_settings, insert_rows, run_cli
from .report import Figure, p50

SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "te", "vi", "zo", "pa", "qu", "ri", "do", "fe", "gu", "ho"]


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def _corpus(count: int, seed: int = 7) -> list[tuple[str, str, str, str]]:
    """(name, title, description, body) rows of ≈1 KB each."""
    rng = random.Random(seed)
    vocabulary = _vocabulary(rng, 20_000)
    weights = [1 / (rank + 1) ** 1.05 for rank in range(len(vocabulary))]
    rows = []
    for index in range(count):
        words = rng.choices(vocabulary, weights=weights, k=170)
        title = " ".join(words[:3]).capitalize()
        rows.append((f"doc-{index:06d}", title, " ".join(words[3:15]) + ".", " ".join(words[15:])))
    return rows


def _document_frequencies(rows: list[tuple[str, str, str, str]]) -> Counter[str]:
    frequencies: Counter[str] = Counter()
    for _name, title, description, body in rows:
        frequencies.update(set(f"{title} {description} {body}".lower().replace(".", "").split()))
    return frequencies


def _pick(frequencies: Counter[str], low: float, high: float, total: int, how_many: int) -> list[str]:
    chosen = [w for w, n in frequencies.items() if low * total <= n <= high * total]
    if not chosen and low * total < 20:  # a big corpus may have no word that rare: take the rarest ones
        chosen = sorted((w for w, n in frequencies.items() if n >= 2), key=lambda w: frequencies[w])[:how_many]
    chosen.sort(key=lambda w: (frequencies[w], w))
    step = max(1, len(chosen) // how_many)
    return chosen[::step][:how_many]


def _seconds(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


async def _run(count: int, repeats: int, writes: int, log: Callable[[str], None]) -> list[Figure]:
    rows = _corpus(count)
    frequencies = _document_frequencies(rows)
    terms = {
        "rare": _pick(frequencies, 0.00005, 0.0002, count, 5),
        "mid-frequency": _pick(frequencies, 0.005, 0.02, count, 5),
        "common": _pick(frequencies, 0.3, 0.6, count, 5),
    }
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="pba-bench-search-") as tmp:
        home = Path(tmp)
        log(f"storing {count:,} templates ...")
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
        )
        log(f"indexing {count:,} templates ...")
        idle = _seconds(lambda: run_cli(home, "db", "upgrade"))  # the same CLI start, with nothing to do
        rebuild = _seconds(lambda: run_cli(home, "db", "reindex"))
        figures.append(
            Figure(
                "index_rebuild",
                f"rebuild the index of {count:,} templates (pba-tunnel db reindex)",
                rebuild,
                "s",
                "pba-tunnel db upgrade with nothing to do (the CLI's own start)",
                idle,
                rebuild / idle,
                "≤ 30 s",
                rebuild <= 30,
            )
        )

        settings = bench_settings(home)
        service = await TemplateService.open(settings)
        engine = create_async_engine(settings.database_url)
        try:
            log(f"writing {writes:,} new templates one at a time ...")
            timings = []
            for index in range(writes):
                name = f"new-{index:05d}"
                body = rows[index % count][3]
                source = f"---\nname: {name}\ndescription: A template written after the bulk load.\n---\n{body}\n"
                started = time.perf_counter()
                await service.create(source, origin="bench")
                timings.append((time.perf_counter() - started) * 1000)
            figures.append(
                Figure(
                    "write_one",
                    f"create one template through the service (new version, tags, index), {count:,} stored",
                    p50(timings),
                    "ms",
                    target="reported",
                )
            )

            templates, versions = TEMPLATES, VERSIONS
            like = (
                select(templates.c.name)
                .join(
                    versions,
                    (versions.c.template_id == templates.c.id) & (versions.c.version == templates.c.current_version),
                )
                .where(templates.c.deleted_at.is_(None), versions.c.source.like(bindparam("pattern")))
            )
            targets = {"rare": None, "mid-frequency": 10.0, "common": 40.0}
            for label, words in terms.items():
                if not words:
                    log(f"no {label} terms in this corpus; skipped")
                    continue
                searches, scans = [], []
                for word in words:
                    await service.search(word, limit=10)
                    for _ in range(repeats):
                        started = time.perf_counter()
                        await service.search(word, limit=10)
                        searches.append((time.perf_counter() - started) * 1000)
                    async with engine.connect() as connection:
                        for _ in range(max(1, repeats // 10)):
                            started = time.perf_counter()
                            (await connection.execute(like, {"pattern": f"%{word}%"})).all()
                            scans.append((time.perf_counter() - started) * 1000)
                search_ms, scan_ms = p50(searches), p50(scans)
                share = statistics.mean(frequencies[w] for w in words) / count
                limit = targets[label]
                figures.append(
                    Figure(
                        f"search_{label.split('-')[0]}",
                        f"top-10 search, {label} term (in {share:.2%} of {count:,} templates)",
                        search_ms,
                        "ms",
                        "LIKE '%term%' scan",
                        scan_ms,
                        search_ms / scan_ms,
                        (f"≤ {limit:g} ms and " if limit else "") + "≥ 10x faster than the scan",
                        (search_ms <= limit if limit else True) and scan_ms / search_ms >= 10,
                    )
                )
        finally:
            await engine.dispose()
            await service.close()
    return figures


def run_search(*, templates: int, repeats: int, writes: int, log: Callable[[str], None]) -> list[Figure]:
    """Index ``templates`` generated templates, time single writes, and searches for rare to common terms."""
    return anyio.run(_run, templates, repeats, writes, log)
