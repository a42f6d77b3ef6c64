"""Labels: named pointers from a template to one of its versions; moving one never makes a version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..errors import ConflictError, NotFoundError, VersionNotFoundError
from .connections import StoreBase, bump_generation
from .models import CHANGES, utcnow
from .records import ChangeInfo, TemplateWrite
from .tables import LABELS as _L
from .tables import TEMPLATES as _T
from .tables import VERSIONS as _V
from .tables import PromptPages, PromptRow, denormalized, label_shown, prompt_pages, prompt_row_page
from .writes import record_change


def _labelled_pages(fallback: bool) -> PromptPages:
    """Listed prompts as a client that sees the label bound as ``label`` lists them (the rest too with
    ``fallback``)."""
    shown = label_shown(fallback)
    query = select(_T.c.name, shown.title, shown.description, shown.arguments_json).select_from(shown.source)
    return prompt_pages(query)


_LABELLED_PAGES, _LABELLED_OR_LATEST_PAGES = _labelled_pages(False), _labelled_pages(True)


@dataclass(frozen=True)
class LabelMove:
    """What a label change did: where the label pointed before and after (None: it did not exist)."""

    name: str
    label: str
    from_version: int | None
    to_version: int | None

    @property
    def changed(self) -> bool:
        """False when the label already was where it was asked to be."""
        return self.from_version != self.to_version


class LabelStore(StoreBase):
    """Setting, moving and removing labels, each recorded with its author; reads of a label's prompts."""

    async def set_label(
        self, item: TemplateWrite, label: str, version: int, *, author: str, expected_version: int | None = None
    ) -> LabelMove:
        """Point ``label`` of ``item.name`` at ``version`` (``item`` is that version, for its listing fields)."""
        async with self._write() as connection:
            template_id, before = await self._locked(connection, item.name, label, expected_version)
            exists = await connection.execute(
                select(_V.c.version).where(_V.c.template_id == template_id, _V.c.version == version)
            )
            if exists.first() is None:
                raise VersionNotFoundError(
                    f"template '{item.name}' has no version {version}", name=item.name, version=version
                )
            if before == version:
                return LabelMove(item.name, label, before, version)
            listing = denormalized(item)
            values = {
                "version": version,
                "title": listing["title"],
                "description": listing["description"],
                "arguments_json": listing["arguments_json"],
                "updated_by": author,
                "updated_at": utcnow(),
            }
            if before is None:
                await connection.execute(insert(_L).values(template_id=template_id, label=label, **values))
            else:
                await connection.execute(
                    update(_L).where(_L.c.template_id == template_id, _L.c.label == label).values(**values)
                )
            await record_change(
                connection, template_id, "label", author, now=values["updated_at"], label=label,
                from_version=before, to_version=version,
            )  # fmt: skip
            await bump_generation(connection)  # clients that see this label must hear that their prompts changed
            return LabelMove(item.name, label, before, version)

    async def remove_label(
        self, name: str, label: str, *, author: str, expected_version: int | None = None
    ) -> LabelMove:
        """Remove ``label`` from ``name``; a label that does not exist is no change."""
        async with self._write() as connection:
            template_id, before = await self._locked(connection, name, label, expected_version)
            if before is None:
                return LabelMove(name, label, None, None)
            await connection.execute(delete(_L).where(_L.c.template_id == template_id, _L.c.label == label))
            await record_change(connection, template_id, "unlabel", author, now=utcnow(), label=label,
                                from_version=before)  # fmt: skip
            await bump_generation(connection)
            return LabelMove(name, label, before, None)

    async def _locked(
        self, connection: AsyncConnection, name: str, label: str, expected_version: int | None
    ) -> tuple[int, int | None]:
        """The template's id and where ``label`` points now, with the template row held until commit."""
        row = (await connection.execute(self.dialect.lock_for_write(select(_T.c.id).where(_T.c.name == name)))).first()
        if row is None:
            raise NotFoundError(f"no template named '{name}'", name=name)
        before = (
            await connection.execute(select(_L.c.version).where(_L.c.template_id == row.id, _L.c.label == label))
        ).scalar_one_or_none()
        if expected_version is not None and expected_version != before:
            where = f"points at version {before}" if before is not None else "does not exist"
            raise ConflictError(
                f"label '{label}' of '{name}' {where}, not version {expected_version}: someone moved it meanwhile"
            )
        return int(row.id), before

    async def changes(self, name: str) -> list[ChangeInfo]:
        """Label moves, deletes and restores of ``name``, oldest first."""
        query = (
            select(CHANGES).join(_T, _T.c.id == CHANGES.c.template_id).where(_T.c.name == name).order_by(CHANGES.c.id)
        )
        async with self._read() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [
            ChangeInfo.model_validate({k: v for k, v in row.items() if k not in {"id", "template_id"}}) for row in rows
        ]

    async def label_names(self) -> list[str]:
        """Every label in use, by name."""
        async with self._read() as connection:
            return list((await connection.execute(select(_L.c.label).distinct().order_by(_L.c.label))).scalars())

    async def labelled_prompt_rows(
        self, label: str, *, fallback: bool, cursor: str | None, limit: int
    ) -> tuple[list[PromptRow], str | None]:
        """One page of listed prompts as a client that sees ``label`` lists them (the rest too with ``fallback``)."""
        pages = _LABELLED_OR_LATEST_PAGES if fallback else _LABELLED_PAGES
        async with self._read_statement() as connection:
            return await prompt_row_page(connection, pages, cursor, limit, label=label)

    async def label_versions(self, label: str, names: Sequence[str]) -> dict[str, int]:
        """For those of ``names`` that have ``label``: the version it points at."""
        if not names:
            return {}
        query = (
            select(_T.c.name, _L.c.version)
            .join(_L, _L.c.template_id == _T.c.id)
            .where(_L.c.label == label, _T.c.name.in_(list(names)))
        )
        async with self._read() as connection:
            return {row.name: row.version for row in await connection.execute(query)}
