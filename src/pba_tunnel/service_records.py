"""What the service tells of a store's records: store-wide facts, version history, usage and enhancements."""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from typing import TYPE_CHECKING

from .errors import StoreError, VersionNotShownError
from .store import EnhancementEvent, Store, UsageStat, VersionInfo
from .store.usage import UsageGroup
from .usage import RenderLog

if TYPE_CHECKING:
    from .labels import LabelView
    from .store import StoredTemplate


class RecordOps:
    """Store-wide facts, history, diffs, usage and enhancement events, as part of the service."""

    _store: Store
    _renders: RenderLog
    _unfilled: list[tuple[str, int, str]]  # facts found by parsing, written with the next flush

    if TYPE_CHECKING:  # defined by LabelOps, which comes after this class in the service's bases

        async def viewed(self, name: str, view: LabelView) -> StoredTemplate: ...

        async def only_one_shown(self, name: str, view: LabelView | None) -> None: ...

        async def shown_versions(self, view: LabelView) -> dict[str, int]: ...

        async def shown_usage(self, view: LabelView, stats: list[UsageStat], by: UsageGroup) -> list[UsageStat]: ...

    async def get_meta(self, key: str) -> str | None:
        """A store-wide fact (such as when the store was seeded)."""
        return await self._store.get_meta(key)

    async def set_meta(self, key: str, value: str) -> None:
        """Set a store-wide fact."""
        await self._store.set_meta(key, value)

    async def record_enhancement(self, event: EnhancementEvent) -> None:
        """Remember one enhancement (saved or not) for statistics."""
        await self._store.record_enhancement(event)

    async def enhancement_events(self, name: str | None = None, *, limit: int = 100) -> list[EnhancementEvent]:
        """The latest enhancements (of ``name``, or of every template), newest first."""
        return await self._store.enhancement_events(name, limit=limit)

    async def flush_events(self) -> None:
        """Write the render events gathered since the last flush (one transaction), and parse facts found since."""
        await self._renders.flush()
        unfilled, self._unfilled = self._unfilled, []
        if unfilled:
            with contextlib.suppress(StoreError):  # only a saving for the next first read: never worth a failure
                await self._store.fill_facts(unfilled)

    async def history(self, name: str, *, view: LabelView | None = None) -> list[VersionInfo]:
        """Every version of a template (with its author and labels), oldest first. Refused to a client with ``view``:
        it sees one version of each template (VersionNotShownError; LabelNotFoundError when the view hides it)."""
        await self.only_one_shown(name, view)
        return await self._store.history(name)

    async def usage(
        self, *, since: date, name: str | None = None, by: UsageGroup = "template", view: LabelView | None = None
    ) -> list[UsageStat]:
        """Renders since ``since`` per template (or per template and client, label or version), most used first;
        through ``view`` only of what it shows."""
        await self.flush_events()
        stats = await self._store.usage(since=since, name=name, by=by)
        return stats if view is None else await self.shown_usage(view, stats, by)

    async def unused(self, *, since: date, view: LabelView | None = None) -> list[tuple[str, datetime | None]]:
        """Templates nobody rendered since ``since``, with when they last were (None: not within the kept days);
        through ``view`` only those it shows."""
        await self.flush_events()
        unused = await self._store.unused(since=since)
        if view is None:
            return unused
        shown = await self.shown_versions(view)
        return [(name, last) for name, last in unused if name in shown]

    async def diff(self, name: str, from_version: int, to_version: int, *, view: LabelView | None = None) -> str:
        """A unified diff between two versions of a template; through ``view`` only the version it shows exists."""
        if view is not None:
            shown = await self.viewed(name, view)
            for version in (from_version, to_version):
                if version != shown.version:
                    raise VersionNotShownError(name=name, label=view.label, version=version)
        old = await self._store.get(name, from_version, include_deleted=True)
        new = await self._store.get(name, to_version, include_deleted=True)
        import difflib

        lines = difflib.unified_diff(
            old.source.splitlines(keepends=True),
            new.source.splitlines(keepends=True),
            fromfile=f"{name}@{from_version}",
            tofile=f"{name}@{to_version}",
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
