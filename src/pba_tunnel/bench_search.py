"""Search speed at scale: FTS5 through the service API against a LIKE scan of the same table, same run.

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
from sqlalchemy import text

from .bench import Figure
from .config import load_settings

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


async def _run(count: int, repeats: int, log: Callable[[str], None]) -> list[Figure]:
    from .service import TemplateService, template_write
    from .templates.parsing import content_hash

    rows = _corpus(count)
    frequencies = _document_frequencies(rows)
    terms = {
        "rare": _pick(frequencies, 0.00005, 0.0002, count, 5),
        "mid-frequency": _pick(frequencies, 0.005, 0.02, count, 5),
        "common": _pick(frequencies, 0.3, 0.6, count, 5),
    }
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="pba-bench-search-") as tmp:
        service = await TemplateService.open(load_settings({"PBA_TUNNEL_HOME": str(Path(tmp)), "PBA_TUNNEL_SEED": "0"}))
        try:
            sample = template_write(service.parse("---\nname: doc-x\ndescription: x\n---\nx\n"))
            items = []
            for name, title, description, body in rows:
                source = f"---\nname: {name}\ntitle: {title}\ndescription: {description}\n---\n{body}\n"
                items.append(
                    sample.model_copy(
                        update={
                            "name": name,
                            "title": title,
                            "description": description,
                            "source": source,
                            "content_hash": content_hash(source, None),
                        }
                    )
                )
            log(f"indexing {count:,} templates ...")
            started = time.perf_counter()
            for start in range(0, len(items), 10_000):
                await service.store.insert_new(items[start : start + 10_000], origin="bench")
            insert_seconds = time.perf_counter() - started
            started = time.perf_counter()
            await service.store.reindex()
            rebuild_seconds = time.perf_counter() - started
            figures.append(
                Figure(
                    "index_insert",
                    f"store and index {count:,} templates (bulk insert)",
                    insert_seconds,
                    "s",
                    target="≤ 30 s",
                    ok=insert_seconds <= 30,
                )
            )
            figures.append(
                Figure(
                    "index_rebuild",
                    f"rebuild the index of {count:,} templates (db reindex)",
                    rebuild_seconds,
                    "s",
                    target="≤ 30 s",
                    ok=rebuild_seconds <= 30,
                )
            )

            like = text(
                "SELECT t.name FROM templates t JOIN template_versions v ON v.template_id = t.id "
                "AND v.version = t.current_version WHERE t.deleted_at IS NULL AND v.source LIKE :pattern"
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
                    async with service.store.engine.connect() as connection:
                        for _ in range(max(1, repeats // 10)):
                            started = time.perf_counter()
                            await connection.execute(like, {"pattern": f"%{word}%"})
                            scans.append((time.perf_counter() - started) * 1000)
                search_ms, scan_ms = statistics.median(searches), statistics.median(scans)
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
            await service.close()
    return figures


def run_search_bench(*, templates: int, repeats: int, log: Callable[[str], None]) -> list[Figure]:
    """Index ``templates`` generated templates and time searches for rare, mid-frequency and common terms."""
    return anyio.run(_run, templates, repeats, log)
