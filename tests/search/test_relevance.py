"""Relevance: the template a person meant is in the top three (hit@3 ≥ 0.95) and usually first (hit@1 ≥ 0.8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO, make_settings
from pba_tunnel.startup import open_service
from pba_tunnel.sync import import_path

from .relevance import RELEVANCE

PROMPTS_CHAT = REPO / "tests" / "data" / "prompts-chat.csv"


@pytest.mark.anyio
@pytest.mark.slow
async def test_hit_at_1_and_hit_at_3(home: Path, backend: str, backend_env: dict[str, str]) -> None:
    service = await open_service(make_settings(home, seed=True, **backend_env))
    try:
        report = await import_path(service, PROMPTS_CHAT)
        assert report.failed == []
        misses, first = [], 0
        for query, expected in RELEVANCE:
            names = [hit.name for hit in (await service.search(query, limit=3)).results]
            first += bool(names) and names[0] == expected
            if expected not in names:
                misses.append(f"{query!r}: wanted {expected}, got {names}")
    finally:
        await service.close()
    hit_at_1 = first / len(RELEVANCE)
    hit_at_3 = (len(RELEVANCE) - len(misses)) / len(RELEVANCE)
    print(f"\nrelevance on {backend} over {len(RELEVANCE)} queries: hit@1 = {hit_at_1:.3f}, hit@3 = {hit_at_3:.3f}")
    print("\n".join(misses))
    assert len(RELEVANCE) >= 40
    assert (hit_at_1 >= 0.8, hit_at_3 >= 0.95) == (True, True), misses
