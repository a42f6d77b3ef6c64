"""Render events: gathered in memory, written in batches, pruned after the kept period, offered back.

Each batch also feeds the daily usage statistics (store/usage.py), in the same transaction. A server flushes every
0.2 s (its change watcher), so a process killed with SIGKILL loses at most the renders of its last 0.2 s; the
CLI writes its one render before it exits.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import anyio

from .config import Settings
from .store import RenderEvent, Store
from .store.models import utcnow

BATCH = 10_000  # events gathered before the render that adds one writes them (servers flush them sooner)
_REMEMBERED_VALUE_CHARS = 200  # longer values (code, documents) are not kept for completion
_PRUNE_EVERY_SECONDS = 3600.0  # expired events are dropped with a flush at most this often


class RenderLog:
    """The render events of one service, written to its store in batches."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self._events: list[RenderEvent] = []
        self._next_prune = 0.0  # time.monotonic() of the next flush that also prunes
        # One flush at a time: a reader that flushes first must also wait for a flush already under way.
        self._flushing = anyio.Lock()

    def add(
        self,
        name: str,
        version: int,
        duration_ms: float,
        client: str | None,
        arguments: Mapping[str, Any],
        *,
        label: str | None = None,
        error: str | None = None,
    ) -> bool:
        """Note one render (``error``: the code of a failed one); True when the batch is full and should be flushed."""
        remembered = {k: v for k, v in arguments.items() if isinstance(v, str) and len(v) <= _REMEMBERED_VALUE_CHARS}
        event = RenderEvent(name, version, duration_ms, client, remembered or None, utcnow(), label, error)
        self._events.append(event)
        return len(self._events) >= BATCH

    async def flush(self) -> None:
        """Write the events gathered since the last flush (one transaction that also drops expired ones)."""
        async with self._flushing:
            events, self._events = self._events, []
            if not events:
                return
            prune_before = prune_usage_before = None
            if time.monotonic() >= self._next_prune:
                self._next_prune = time.monotonic() + _PRUNE_EVERY_SECONDS
                prune_before = utcnow() - timedelta(days=self._settings.render_event_days)
                prune_usage_before = utcnow().date() - timedelta(days=self._settings.usage_days - 1)
            await self._store.record_renders(
                events,
                prune_before=prune_before,
                usage=self._settings.usage_stats,
                prune_usage_before=prune_usage_before,
            )

    async def values(self, name: str, argument: str, client: str | None) -> list[str]:
        """Values used before for an argument: by ``client`` only, unless the settings share them."""
        # Values may be private (a key, a name): other clients' are offered only when sharing is on.
        await self.flush()
        every_client = self._settings.share_argument_values
        return await self._store.argument_values(name, argument, client=client, every_client=every_client)
