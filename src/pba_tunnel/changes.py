"""Noticing template changes made by any process, with one look shared by the callers that arrive together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio

from .store import Store


@dataclass
class _Look:
    """One read of the store's generation, shared by every caller that arrives while it runs."""

    data_version: int | None  # the store's data_version when the look began
    done: anyio.Event = field(default_factory=anyio.Event)
    finished: bool = False
    changed: bool = False


class ChangeWatch:
    """Tells when the store's generation moved (a template write by anyone) and runs ``reload`` then."""

    def __init__(self, store: Store, reload: Callable[[], Awaitable[None]]) -> None:
        self._store = store
        self._reload = reload
        self.generation = -1  # the generation last seen; -1 before the first look
        self._seen_data_version: int | None = None
        self._look: _Look | None = None

    async def sync(self) -> bool:
        """Reload if any process changed templates since the last look; True when it did (not on the first)."""
        # data_version (free on SQLite) says whether anyone committed; only then is the generation row read, and
        # only a new generation reloads: render events, ours or another process's, leave the caches alone.
        while True:
            data_version = self._store.data_version()
            if data_version is not None and data_version == self._seen_data_version:
                return False
            look = self._look
            if look is None:
                break
            await look.done.wait()
            # That look read the generation after the commit this caller saw, so its answer holds here too;
            # after a newer commit, or when the look failed, look again.
            if look.finished and (data_version is None or data_version == look.data_version):
                return look.changed
        look = self._look = _Look(data_version)
        try:
            look.changed = await self._reload_if_moved()
            look.finished = True
            self._seen_data_version = data_version
        finally:
            self._look = None
            look.done.set()
        return look.changed

    async def _reload_if_moved(self) -> bool:
        generation = await self._store.generation()
        if generation == self.generation:
            return False
        first_look = self.generation < 0
        await self._reload()
        self.generation = generation
        return not first_look
