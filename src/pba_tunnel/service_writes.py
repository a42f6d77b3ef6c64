"""Storing templates and partials for the service: new versions, batches, rollbacks, deletes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .errors import InvalidTemplateError, PbaError
from .service_parsing import ParseOps
from .store import BatchItem, Store, TemplateWrite, WriteResult
from .stored import template_write

# Who a write is by when the caller does not say: the command line. The MCP layer always passes its caller's author.
CLI_AUTHOR = "cli"


class WriteOps(ParseOps):
    """Every template write, as part of the service; partials written here take effect at once."""

    _store: Store

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
