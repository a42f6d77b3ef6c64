"""The one service API that the CLI and the MCP server both call. It knows nothing of MCP."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

import anyio

from .changes import ChangeWatch
from .config import Settings
from .errors import InvalidTemplateError, LabelNotFoundError, NotFoundError, PbaError, StoreError
from .labels import LATEST, LabelOps, LabelView
from .recent import Recent
from .store import (
    BatchItem,
    EnhancementEvent,
    FullTextHit,
    Page,
    PromptLabel,
    PromptRow,
    Store,
    StoredTemplate,
    TemplateSummary,
    TemplateWrite,
    UsageStat,
    VersionInfo,
    WriteResult,
)
from .store.following import ServerDatabaseOptions, StoreHealth
from .store.listener import ListenerState
from .store.matching import TextMatch
from .store.records import Kind
from .store.usage import UsageGroup
from .stored import partial_write as partial_write
from .stored import prompt_only as prompt_only
from .stored import template_write as template_write

if TYPE_CHECKING:
    from .rendering import Renderer, RenderResult
    from .search.engine import Searcher
    from .search.models import SearchResult
    from .templates.spec import ParsedTemplate
    from .templates.variables import PartialLookup
from .tokens import Tokens
from .usage import RenderLog

# Who a write is by when the caller does not say: the command line. The MCP layer always passes its caller's author.
CLI_AUTHOR = "cli"
_UNFILLED_LIMIT = 20_000  # facts found by parsing, waiting to be written with the next flush


async def upgrade_store(database_url: str) -> bool:
    """Apply pending schema migrations to the store at ``database_url``; True when one ran."""
    store = await Store.open(database_url, migrate_schema=False)
    try:
        return await store.upgrade()
    finally:
        await store.close()


class TemplateService(LabelOps):
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

    def _partial(self, name: str) -> str | None:
        """A partial's source by name (looked up at call time: the set is replaced whole on reload)."""
        return self._partials.get(name)

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

    # -- parsing -----------------------------------------------------------------------------------

    @cached_property
    def renderer(self) -> Renderer:
        """The sandboxed renderer, made on first use: Jinja2 is not imported by commands that never render."""
        from .rendering import Renderer

        return Renderer(self.limits, partials=self._partial, cache_size=self.settings.template_cache)

    def parse(
        self,
        source: str,
        *,
        path: str | None = None,
        default_name: str | None = None,
        default_category: str | None = None,
        partials: PartialLookup | None = None,
    ) -> ParsedTemplate:
        """Parse and validate a template source against the stored partials (or ``partials``)."""
        from .templates.parsing import parse_template  # YAML and Jinja2: not for commands that only read

        return parse_template(
            source,
            path=path,
            default_name=default_name,
            default_category=default_category,
            limits=self.limits,
            partials=partials or self._partial,
        )

    def check_partial(self, name: str, source: str, *, path: str | None = None) -> TemplateWrite:
        """Validate a partial's source and return it ready to store."""
        from .templates.parsing import check_source_size
        from .templates.variables import TokenBudget, parse_body

        check_source_size(source, self.limits, path)
        parse_body(source, path=path or name, line=1, budget=TokenBudget(self.limits.max_template_tokens))
        return partial_write(name, source)

    async def _parsed_version(self, stored: StoredTemplate, facts: str | None = None) -> ParsedTemplate:
        """The parsed form of a stored version: from memory, else from its stored facts, else parsed."""
        parsed = self._parsed.get(stored.content_hash)
        if parsed is not None:
            return parsed
        from .templates.facts import facts_json, parsed_from_facts

        if facts is not None:
            parsed = parsed_from_facts(stored.source, stored.content_hash, facts)
        if parsed is None:
            parsed = await self._parse_off_loop(
                stored.source, default_name=stored.name, default_category=stored.category
            )
            found = facts_json(parsed) if stored.version == stored.current_version else None
            if found is not None and len(self._unfilled) < _UNFILLED_LIMIT:
                self._unfilled.append((stored.name, stored.version, found))
        self._parsed.put(stored.content_hash, parsed)
        return parsed

    async def _parse_off_loop(
        self, source: str, *, default_name: str | None, default_category: str | None
    ) -> ParsedTemplate:
        # Parsing a large body takes seconds at worst: in a worker thread, so other clients are answered meanwhile.
        parse = partial(self.parse, source, default_name=default_name, default_category=default_category)
        return await anyio.to_thread.run_sync(parse)

    # -- writes ------------------------------------------------------------------------------------

    async def save(
        self,
        item: TemplateWrite,
        *,
        origin: str,
        author: str = CLI_AUTHOR,
        message: str | None = None,
        expected_version: int | None = None,
        allow_create: bool = True,
        allow_update: bool = True,
        restore_deleted: bool = False,
    ) -> WriteResult:
        """Store a validated template or partial (a new version only when its content changed)."""
        result = await self._store.write(
            item,
            origin=origin,
            author=author,
            message=message,
            expected_version=expected_version,
            allow_create=allow_create,
            allow_update=allow_update,
            restore_deleted=restore_deleted,
        )
        if item.kind == "partial" and result.changed:
            self._partials = {**self._partials, item.name: item.source}
        return result

    async def save_batch(
        self, items: Sequence[BatchItem], *, origin: str, author: str = CLI_AUTHOR, restore_deleted: bool = False
    ) -> list[WriteResult | PbaError]:
        """Store many validated templates and partials in one transaction, each as ``save`` would; for each, its
        result or the error that left it out (the bulk path of imports and store copies)."""
        results = await self._store.write_batch(items, origin=origin, author=author, restore_deleted=restore_deleted)
        saved = {
            i.write.name: i.write.source
            for i, r in zip(items, results, strict=True)
            if i.write.kind == "partial" and isinstance(r, WriteResult) and r.changed
        }
        if saved:
            self._partials = {**self._partials, **saved}
        return results

    async def save_all(
        self,
        items: Sequence[TemplateWrite],
        *,
        origin: str,
        author: str = CLI_AUTHOR,
        message: str | None = None,
        facts: Mapping[str, str],
    ) -> list[WriteResult]:
        """Store validated templates and partials, and store-wide facts, in one transaction (all or nothing)."""
        results = await self._store.write_many(items, origin=origin, author=author, message=message, facts=facts)
        self._partials = {**self._partials, **{i.name: i.source for i in items if i.kind == "partial"}}
        return results

    async def create(
        self,
        source: str,
        *,
        name: str | None = None,
        category: str | None = None,
        origin: str = "cli",
        author: str = CLI_AUTHOR,
        message: str | None = None,
    ) -> WriteResult:
        """Create a new template from its source; ConflictError when the name is taken."""
        parsed = await self._parse_off_loop(source, default_name=name, default_category=category)
        if name is not None and parsed.name != name:
            raise InvalidTemplateError(f"the source is named '{parsed.name}', not '{name}'", field="name")
        return await self.save(
            template_write(parsed), origin=origin, author=author, message=message or "created", allow_update=False
        )

    async def update(
        self,
        name: str,
        source: str,
        *,
        expected_version: int | None = None,
        origin: str = "cli",
        author: str = CLI_AUTHOR,
        message: str | None = None,
    ) -> WriteResult:
        """Store a new version of an existing template."""
        current = await self._store.get(name)
        parsed = await self._parse_off_loop(source, default_name=name, default_category=current.category)
        if parsed.name != name:
            raise InvalidTemplateError(
                f"the source is named '{parsed.name}' but you are updating '{name}': renaming is not supported; "
                "create a new template instead",
                field="name",
            )
        return await self.save(
            template_write(parsed),
            origin=origin,
            author=author,
            message=message,
            expected_version=expected_version,
            allow_create=False,
        )

    async def rollback(self, name: str, version: int, *, origin: str = "cli", author: str = CLI_AUTHOR) -> WriteResult:
        """Make an earlier version current again, as a new version (history keeps everything)."""
        old, facts = await self._store.get_with_facts(name, version)
        item = TemplateWrite(
            **{**template_write(await self._parsed_version(old, facts)).model_dump(), "kind": old.kind}
        )
        return await self.save(
            item, origin=origin, author=author, message=f"rollback to version {version}", allow_create=False
        )

    async def delete(self, name: str, *, author: str = CLI_AUTHOR) -> bool:
        """Soft-delete (recorded with its author); False when it was already deleted."""
        return await self._store.set_deleted(name, True, author=author)

    async def restore(self, name: str, *, author: str = CLI_AUTHOR) -> bool:
        """Undo a delete (recorded with its author); False when it was not deleted."""
        return await self._store.set_deleted(name, False, author=author)

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
            stored = await self._viewed(name, view)
            if (version is not None and version != stored.version) or (label not in (None, view.label, LATEST)):
                raise NotFoundError(f"template '{name}' shows only its '{view.label}' version here", name=name)
            return stored
        if label == LATEST:
            label = None
        return await self._store.get(name, version, include_deleted=include_deleted, label=label)

    async def _viewed(self, name: str, view: LabelView) -> StoredTemplate:
        try:
            return await self._store.get(name, label=view.label)
        except LabelNotFoundError:
            if not view.fallback_latest:
                raise
        return await self._store.get(name)

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
        ``view``: full pages of the templates it shows, each at the version it shows, and no deleted one."""
        return await self._store.list_templates(
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

    async def prompt_labels(
        self, *, cursor: str | None = None, limit: int = 1000
    ) -> tuple[list[PromptLabel], str | None]:
        """One page of the names and titles of listed prompts (not internal ones), by name: what typo tolerance
        compares a query with."""
        return await self._store.prompt_labels(cursor=cursor, limit=max(1, min(limit, 1000)))

    async def search(
        self, query: str, *, category: str | None = None, tags: list[str] | None = None, limit: int = 10
    ) -> SearchResult:
        """Templates matching ``query`` (words, "phrases", prefix*, -exclusions, category:/tag: filters)."""
        from .search.engine import Searcher

        if self._searcher is None:
            self._searcher = Searcher(self)
        return await self._searcher.search(query, category=category, tags=tags, limit=max(1, min(limit, 100)))

    @property
    def has_full_text(self) -> bool:
        """Whether the database has a full-text index (else search matches words plainly)."""
        return self._store.dialect.fulltext is not None

    async def full_text(
        self, match: TextMatch, *, categories: Sequence[str], tags: Sequence[str], limit: int
    ) -> list[FullTextHit]:
        """Live prompts matching a parsed full-text query, best first."""
        return await self._store.full_text(match, categories=categories, tags=tags, limit=limit)

    async def similar_names(self, words: str, limit: int) -> list[tuple[str, str | None]] | None:
        """(name, title) of prompts whose name or title looks like ``words``, from the database's trigram index;
        None where there is none (search then compares names in memory)."""
        return await self._store.similar_names(words, limit)

    async def search_candidates(
        self, terms: Sequence[str], *, category: str | None, tags: Sequence[str], limit: int
    ) -> list[StoredTemplate]:
        """Live prompts containing every term somewhere (for databases without a full-text index)."""
        return await self._store.search_candidates(terms, category=category, tags=tags, limit=limit)

    async def reindex(self) -> int:
        """Rebuild the full-text index; how many templates it now holds."""
        return await self._store.reindex()

    async def history(self, name: str) -> list[VersionInfo]:
        """Every version of a template (with its author and labels), oldest first."""
        return await self._store.history(name)

    async def usage(self, *, since: date, name: str | None = None, by: UsageGroup = "template") -> list[UsageStat]:
        """Renders since ``since`` per template (or per template and client, label or version), most used first."""
        await self.flush_events()
        return await self._store.usage(since=since, name=name, by=by)

    async def unused(self, *, since: date) -> list[tuple[str, datetime | None]]:
        """Templates nobody rendered since ``since``, with when they last were (None: not within the kept days)."""
        await self.flush_events()
        return await self._store.unused(since=since)

    async def diff(self, name: str, from_version: int, to_version: int) -> str:
        """A unified diff between two versions of a template."""
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
