"""The one service API that the CLI and the MCP server both call. It knows nothing of MCP."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

import anyio

from .changes import ChangeWatch
from .config import Settings
from .errors import PbaError, VersionNotShownError
from .labels import LATEST, LabelOps, LabelView, as_version
from .recent import Recent
from .service_records import RecordOps
from .service_search import SearchOps
from .service_writes import CLI_AUTHOR as CLI_AUTHOR
from .service_writes import WriteOps
from .store import (
    Page,
    PromptRow,
    Store,
    StoredTemplate,
    TemplateSummary,
)
from .store.following import ServerDatabaseOptions, StoreHealth
from .store.listener import ListenerState
from .store.records import Kind
from .stored import partial_write as partial_write
from .stored import prompt_only as prompt_only
from .stored import template_write as template_write

if TYPE_CHECKING:
    from .rendering import Renderer, RenderResult
    from .search.engine import Searcher
    from .search.models import SearchResult
    from .templates.spec import ParsedTemplate
from .tokens import Tokens
from .usage import RenderLog


async def upgrade_store(database_url: str) -> bool:
    """Apply pending schema migrations to the store at ``database_url``; True when one ran."""
    store = await Store.open(database_url, migrate_schema=False)
    try:
        return await store.upgrade()
    finally:
        await store.close()


class TemplateService(WriteOps, RecordOps, SearchOps, LabelOps):
    """Create, read, version, label, render and delete templates; one instance per store."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store  # only the service holds the store: callers go through its methods
        self.settings = settings
        self.limits = settings.limits
        self._partials: dict[str, str] = {}
        # Each kept template costs ~12 KB (a short one; more for a long source); a miss costs ~1 ms.
        kept = settings.template_cache
        self._parsed: Recent[str, ParsedTemplate] = Recent(kept)
        # Current versions by name, trusted until the store's generation moves (any process's write).
        self._current: Recent[str, tuple[StoredTemplate, ParsedTemplate]] = Recent(kept)
        # The same for labelled versions, by (name, label); None: the template has no such label.
        self._labelled: Recent[tuple[str, str], tuple[StoredTemplate, ParsedTemplate] | None] = Recent(kept)
        self._changes = ChangeWatch(store, self._reload)
        self._reloads = 0
        self._renders = RenderLog(store, settings)
        # Facts of versions stored before they were kept (name, version, JSON), written with the render events.
        self._unfilled: list[tuple[str, int, str]] = []
        self.tokens = Tokens(store)  # API tokens of this store (the CLI manages them, HTTP checks them)
        self._searcher: Searcher | None = None

    @classmethod
    async def open(cls, settings: Settings) -> TemplateService:
        """Open the store (creating and migrating it) and load partials; never seeds (``startup`` does)."""
        options = ServerDatabaseOptions(
            settings.database_timeout, settings.database_query_timeout, settings.change_check_seconds
        )
        store = await Store.open(settings.database_url, server_options=options)
        service = cls(store, settings)
        try:
            await service.sync_changes()  # loads partials and notes the generation the service opened at
        except BaseException:
            await store.close()  # a start that failed (a full disk) must not leave its connections behind
            raise
        return service

    async def close(self) -> None:
        """Write pending render events and release the store."""
        try:
            await self.flush_events()
        finally:
            await self._store.close()

    @property
    def generation(self) -> int:
        """The store generation last seen by :meth:`sync_changes`."""
        return self._changes.generation

    async def sync_changes(self) -> bool:
        """Forget cached templates if any process changed the store since the last look; True when it did."""
        return await self._changes.sync()

    async def follow_changes(self) -> None:
        """Hear of other processes' writes as they commit (PostgreSQL) until cancelled; returns at once elsewhere."""
        await self._store.follow_changes()

    def change_signal(self) -> anyio.Event | None:
        """Set when another process's write was heard of (None when the store tells no one)."""
        return self._store.change_signal()

    async def health(self) -> StoreHealth:
        """The store's kind, round-trip latency, pool and listener; StoreError when it cannot be reached."""
        return await self._store.health()

    def store_listener_state(self) -> ListenerState | None:
        """The change listener's state without touching the database (None where the store has none)."""
        return self._store.listener_state()

    async def _reload(self) -> None:
        partials = await self._store.sources("partial")
        # One assignment swaps the set: a render or parse in a worker thread sees the old set or the new one.
        self._current.clear()
        self._labelled.clear()
        self._partials = dict(partials)
        self._reloads += 1

    async def current(self, name: str) -> tuple[StoredTemplate, ParsedTemplate]:
        """The current version of ``name`` and its parsed form, from memory when nothing changed."""
        await self.sync_changes()
        entry = self._current.get(name)
        if entry is None:
            reloads = self._reloads
            stored, facts = await self._store.get_with_facts(name)
            entry = (prompt_only(stored), await self._parsed_version(stored, facts))
            if reloads == self._reloads:  # a reload while we read could make this row stale
                self._current.put(name, entry)
        return entry

    # -- rendering ---------------------------------------------------------------------------------

    @cached_property
    def renderer(self) -> Renderer:
        """The sandboxed renderer, made on first use: Jinja2 is not imported by commands that never render."""
        from .rendering import Renderer

        return Renderer(self.limits, partials=self._partial, cache_size=self.settings.template_cache)

    # -- reads -------------------------------------------------------------------------------------

    async def get(
        self,
        name: str,
        version: int | None = None,
        *,
        include_deleted: bool = False,
        label: str | None = None,
        view: LabelView | None = None,
    ) -> StoredTemplate:
        """The current (or a given, or a labelled) version of a template with its source; a deleted one only when
        asked. Through ``view`` only the version its label shows exists."""
        if view is not None:
            stored = await self.viewed(name, view)
            if (version is not None and version != stored.version) or (label not in (None, view.label, LATEST)):
                raise VersionNotShownError(name=name, label=view.label, version=version)
            return stored
        if label == LATEST:
            label = None
        return await self._store.get(name, version, include_deleted=include_deleted, label=label)

    async def list_templates(
        self,
        *,
        category: str | None = None,
        tag: str | None = None,
        cursor: str | None = None,
        limit: int = 100,
        include_deleted: bool = False,
        kind: Kind | None = "prompt",
        include_internal: bool = False,
        view: LabelView | None = None,
    ) -> Page[TemplateSummary]:
        """One page of templates (of one kind, or all with None), ordered by name; internal ones when asked. Through
        ``view``: the templates it shows, each as the version it shows is, and no deleted one."""
        page, older = await self._store.list_shown(
            category=category,
            tag=tag,
            cursor=cursor,
            limit=limit,
            include_deleted=include_deleted,
            kind=kind,
            include_internal=include_internal,
            label=None if view is None else view.label,
            fallback=view is not None and view.fallback_latest,
        )
        if view is None or not older:
            return page
        # Shown at an older version (usually few): its tags are that version's, and the tag filter, which matched
        # the newest tags, must hold for them too (a tag only the older version has is missed, never leaked).
        items = []
        for item in page.items:
            if item.name in older:
                entry = await self.labelled(item.name, view.label)
                if entry is None:
                    continue  # the label moved since the listing was read
                item = as_version(item, entry[1])
                if tag is not None and tag not in item.tags:
                    continue
            items.append(item)
        return page.model_copy(update={"items": items})

    async def count(self, *, include_deleted: bool = False, kind: Kind | None = "prompt") -> int:
        """How many templates (of one kind, or all with None) the store holds."""
        return await self._store.count(include_deleted=include_deleted, kind=kind)

    async def sources(self, kind: Kind) -> dict[str, str]:
        """The current source of every live template of one kind, by name."""
        return await self._store.sources(kind)

    async def prompt_rows(
        self, *, cursor: str | None = None, limit: int = 100, view: LabelView | None = None
    ) -> tuple[list[PromptRow], str | None]:
        """One page of listed prompts (not internal ones) as bare rows, as a client with ``view`` sees them."""
        limit = max(1, min(limit, 1000))
        if view is None:
            return await self._store.prompt_rows(cursor=cursor, limit=limit)
        return await self._store.labelled_prompt_rows(
            view.label, fallback=view.fallback_latest, cursor=cursor, limit=limit
        )

    async def search(
        self,
        query: str,
        *,
        category: str | None = None,
        tags: list[str] | None = None,
        limit: int = 10,
        view: LabelView | None = None,
    ) -> SearchResult:
        """Templates matching ``query`` (words, "phrases", prefix*, -exclusions, category:/tag: filters); through
        ``view``, each as the version it shows, kept only when that version matches too."""
        from .search.engine import Searcher, hit_matches

        if self._searcher is None:
            self._searcher = Searcher(self)
        found = await self._searcher.search(query, category=category, tags=tags, limit=max(1, min(limit, 100)))
        if view is None:
            return found
        # Ranked by the newest text: a hit shown at an older version must match in that version's text too.
        matches = partial(hit_matches, query, category=category, tags=tags, any_word=found.mode != "all")
        return found.model_copy(update={"results": await self.shown_as(view, found.results, matches)})

    async def render(
        self,
        name: str,
        arguments: Mapping[str, Any],
        *,
        version: int | None = None,
        client: str | None = None,
        view: LabelView | None = None,
    ) -> RenderResult:
        """Render a stored template (the version ``view`` shows); every render, failed or not, is counted."""
        stored, parsed, label = await self._to_render(name, version, view)
        render = partial(self.renderer.render, parsed, arguments, version=stored.version)
        try:
            # Off the event loop: a render may take up to its time limit, and other clients are answered meanwhile.
            # Text with bare substitutions renders in microseconds: inline, which saves the hand-off to a thread.
            result = render() if self.renderer.renders_quickly(parsed) else await anyio.to_thread.run_sync(render)
        except PbaError as exc:
            self._renders.add(stored.name, stored.version, 0.0, client, {}, label=label, error=exc.code)
            raise
        if self._renders.add(stored.name, stored.version, result.duration_ms, client, arguments, label=label):
            await self.flush_events()
        return result

    async def complete_argument(
        self,
        name: str,
        argument: str,
        prefix: str = "",
        *,
        limit: int = 100,
        client: str | None = None,
        view: LabelView | None = None,
    ) -> list[str]:
        """Values for an argument: enum values, the default, then values ``client`` used before; by prefix."""
        _stored, parsed, _label = await self._to_render(name, None, view)
        spec = parsed.spec.argument(argument)
        if spec is None:
            return []
        candidates = [str(v) for v in spec.enum or []]
        if spec.default is not None:
            candidates.append(str(spec.default))
        candidates.extend(await self._renders.values(name, argument, client))
        wanted = prefix.lower()
        unique = dict.fromkeys(c for c in candidates if c.lower().startswith(wanted))
        return list(unique)[:limit]
