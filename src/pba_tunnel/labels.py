"""Labels in the service: moving them (with authors and the admin check) and the view of a label-scoped client."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from .errors import AdminRequiredError, InvalidLabelError, LabelNotFoundError, VersionNotShownError

if TYPE_CHECKING:
    from .config import Settings
    from .recent import Recent
    from .search.models import SearchHit
    from .store import ChangeInfo, LabelMove, Store, StoredTemplate, TemplateSummary, UsageStat
    from .store.usage import UsageGroup
    from .templates.spec import ParsedTemplate

ItemT = TypeVar("ItemT", "TemplateSummary", "SearchHit")  # what a listing or a search shows of a template
ShownT = TypeVar("ShownT", bound=BaseModel)
LATEST = "latest"  # implicit: always the newest version; never stored
LABEL_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


def check_label(label: str) -> str:
    """``label`` when it can name a stored label; InvalidLabelError otherwise."""
    if label == LATEST:
        raise InvalidLabelError(f"'{LATEST}' always means the newest version; it cannot be set or removed", label=label)
    if not LABEL_PATTERN.match(label):
        raise InvalidLabelError(
            f"'{label}' is not a label name: use lowercase letters, digits, '-' and '_' (at most 100)", label=label
        )
    return label


def as_version(item: ShownT, parsed: ParsedTemplate) -> ShownT:
    """``item`` with the listing fields (title, description, category, tags, arguments) of the version ``parsed``
    is: the template row keeps the newest version's copies, which a view of an older version must not show."""
    spec = parsed.spec
    fields = {
        "title": spec.title,
        "description": spec.description,
        "category": spec.category,
        "tags": list(spec.tags),
        "arguments": list(spec.arguments),
    }
    return item.model_copy(update={k: v for k, v in fields.items() if k in type(item).model_fields})


@dataclass(frozen=True)
class LabelView:
    """What a client configured for one label sees: that label's version of each template.

    Templates without the label are hidden, unless ``fallback_latest`` shows their newest version instead.
    """

    label: str
    fallback_latest: bool = False

    @classmethod
    def of(cls, label: str | None, *, fallback_latest: bool = False) -> LabelView | None:
        """The view of ``label`` (None or ``latest``: no view, every newest version)."""
        if label is None or label == LATEST:
            return None
        return cls(check_label(label), fallback_latest)


class LabelOps:
    """Label moves, the change log and the versions a label view shows, as part of the service."""

    _store: Store
    settings: Settings
    _labelled: Recent[tuple[str, str], tuple[StoredTemplate, ParsedTemplate] | None]
    _reloads: int

    async def _parsed_version(self, stored: StoredTemplate, facts: str | None = None) -> ParsedTemplate:
        raise NotImplementedError

    async def sync_changes(self) -> bool:
        """Defined by the service."""
        raise NotImplementedError

    async def current(self, name: str) -> tuple[StoredTemplate, ParsedTemplate]:
        """Defined by the service."""
        raise NotImplementedError

    async def labelled(self, name: str, label: str) -> tuple[StoredTemplate, ParsedTemplate] | None:
        """The version ``label`` of ``name`` points at and its parsed form (None without that label), from memory
        when nothing changed (a label move changes the store's generation)."""
        await self.sync_changes()
        key = (name, label)
        kept, cached = self._labelled.lookup(key)
        if kept:
            return cached
        from .stored import prompt_only

        reloads = self._reloads
        entry: tuple[StoredTemplate, ParsedTemplate] | None = None
        try:
            stored, facts = await self._store.get_with_facts(name, label=label)
            entry = (prompt_only(stored), await self._parsed_version(stored, facts))
        except LabelNotFoundError:
            pass
        if reloads == self._reloads:
            self._labelled.put(key, entry)
        return entry

    async def _to_render(
        self, name: str, version: int | None, view: LabelView | None
    ) -> tuple[StoredTemplate, ParsedTemplate, str | None]:
        """The version to render, parsed, and the label it was reached through (None for an explicit version)."""
        if view is not None:
            entry = await self.labelled(name, view.label)
            label: str | None = view.label
            if entry is None:
                if not view.fallback_latest:
                    raise LabelNotFoundError(
                        f"template '{name}' has no label '{view.label}'", name=name, label=view.label
                    )
                entry, label = await self.current(name), LATEST
            if version is not None and version != entry[0].version:
                raise VersionNotShownError(name=name, label=view.label, version=version)
            return entry[0], entry[1], label
        if version is None:
            stored, parsed = await self.current(name)
            return stored, parsed, LATEST
        from .stored import prompt_only

        stored, facts = await self._store.get_with_facts(name, version)
        return prompt_only(stored), await self._parsed_version(stored, facts), None

    def _check_protected(self, label: str, can_admin: bool) -> None:
        if label in self.settings.protected_labels and not can_admin:
            raise AdminRequiredError(
                f"label '{label}' is protected: only the admin scope may move or remove it", label=label
            )

    async def set_label(
        self,
        name: str,
        label: str,
        *,
        version: int | None = None,
        expected_version: int | None = None,
        author: str,
        can_admin: bool,
    ) -> LabelMove:
        """Point ``label`` at ``version`` (default: the current one); no version is made, the move is recorded."""
        from .stored import template_write  # the store's modules load after the first answer (cold start)

        self._check_protected(check_label(label), can_admin)
        stored, facts = await self._store.get_with_facts(name, version)
        if stored.kind != "prompt":
            raise InvalidLabelError(f"'{name}' is a partial: only templates have labels", label=label)
        item = template_write(await self._parsed_version(stored, facts))
        return await self._store.set_label(
            item, label, stored.version, author=author, expected_version=expected_version
        )

    async def remove_label(
        self, name: str, label: str, *, expected_version: int | None = None, author: str, can_admin: bool
    ) -> LabelMove:
        """Remove ``label`` from ``name`` (recorded); removing a label that is not there changes nothing."""
        self._check_protected(check_label(label), can_admin)
        return await self._store.remove_label(name, label, author=author, expected_version=expected_version)

    async def viewed(self, name: str, view: LabelView) -> StoredTemplate:
        """The version of ``name`` that ``view`` shows, with no other label (LabelNotFoundError: the view hides the
        template): every field that version's, and ``current_version`` too, so no newer hidden version shows."""
        entry = await self.labelled(name, view.label)
        if entry is None:
            if not view.fallback_latest:
                raise LabelNotFoundError(f"template '{name}' has no label '{view.label}'", name=name, label=view.label)
            stored = await self._store.get(name)
            return stored.model_copy(update={"labels": {}})
        stored, parsed = entry
        return as_version(stored, parsed).model_copy(
            update={
                "labels": {view.label: stored.version},
                "current_version": stored.version,
                "updated_at": stored.created_at,
            }
        )

    async def only_one_shown(self, name: str, view: LabelView | None) -> None:
        """Refuse what shows several versions of ``name`` (its history, label moves) to a client with ``view``,
        which sees one version of each template: VersionNotShownError, or LabelNotFoundError when it is hidden."""
        if view is not None:
            await self.viewed(name, view)
            raise VersionNotShownError(name=name, label=view.label)

    async def newest_shown(self, name: str, view: LabelView | None) -> None:
        """Refuse, to a client with ``view``, what reads the newest version of ``name`` unless the view shows it."""
        if view is None:
            return
        shown = await self.viewed(name, view)
        newest, _parsed = await self.current(name)
        if shown.version != newest.version:
            raise VersionNotShownError(name=name, label=view.label, version=newest.version)

    async def shown_versions(self, view: LabelView) -> dict[str, int]:
        """The version ``view`` shows of each template it shows, by name."""
        from .paging import walk_pages
        from .store.cursors import MAX_PAGE

        async def fetch(cursor: str | None) -> tuple[list[TemplateSummary], str | None]:
            page, _older = await self._store.list_shown(
                cursor=cursor, limit=MAX_PAGE, label=view.label, fallback=view.fallback_latest
            )
            return page.items, page.next_cursor

        return {item.name: item.version async for item in walk_pages(fetch)}

    async def shown_usage(self, view: LabelView, stats: list[UsageStat], by: UsageGroup) -> list[UsageStat]:
        """``stats`` as a client with ``view`` may see them: of the templates it shows, and grouped by version or
        label, only the rows of the version or label it shows (counts per template or client are kept whole)."""
        shown = await self.shown_versions(view)
        labels = {view.label, LATEST} if view.fallback_latest else {view.label}
        return [
            stat
            for stat in stats
            if stat.name in shown
            and (by != "version" or stat.group == str(shown[stat.name]))
            and (by != "label" or stat.group in labels)
        ]

    async def changes(self, name: str, *, view: LabelView | None = None) -> list[ChangeInfo]:
        """Label moves, deletes and restores of ``name`` (who, when, from, to), oldest first; refused to a ``view``
        (they name other versions)."""
        await self.only_one_shown(name, view)
        return await self._store.changes(name)

    async def label_names(self) -> list[str]:
        """Every label in use."""
        return await self._store.label_names()

    async def shown_as(
        self, view: LabelView, items: Sequence[ItemT], matches: Callable[[ItemT, str], bool] | None = None
    ) -> list[ItemT]:
        """``items`` (search hits, found in the newest versions) as a client with ``view`` sees them: each as the
        version it shows is, without those it hides, and without those whose shown version fails ``matches`` (given
        the item as shown and that version's source): a word only a hidden version has finds nothing. Only for
        search, which ranks first; listings page through ``list_templates(view=…)`` instead."""
        versions = await self._store.label_versions(view.label, [item.name for item in items])
        shown = []
        for item in items:
            version = versions.get(item.name)
            if version is None:
                if view.fallback_latest:
                    shown.append(item)
                continue
            if version == item.version:
                shown.append(item)
                continue
            entry = await self.labelled(item.name, view.label)
            if entry is None or entry[0].version != version:
                continue  # the label moved meanwhile
            stored, parsed = entry
            update: dict[str, object] = {"version": stored.version}
            if "snippet" in type(item).model_fields:  # the snippet quoted the newest text
                update.update(snippet=parsed.spec.description, matched=[])
            item = as_version(item, parsed).model_copy(update=update)
            if matches is None or matches(item, stored.source):
                shown.append(item)
        return shown
