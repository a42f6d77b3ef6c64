"""Seeding an empty store from the starter library that ships inside the package."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import structlog

from .errors import PbaError
from .service import TemplateService
from .store import TemplateWrite

SEEDED_KEY = "seeded_at"
log = structlog.get_logger(__name__)


def starter_library() -> Path:
    """The bundled templates: inside the wheel (``_starter``) or, in a checkout, the repository's ``templates/``."""
    bundled = resources.files("pba_tunnel") / "_starter"
    if bundled.is_dir():
        return Path(str(bundled))
    return Path(__file__).resolve().parents[2] / "templates"


def starter_items(service: TemplateService) -> tuple[list[TemplateWrite], list[tuple[str, str]]]:
    """The starter library validated and ready to store, partials first; files that fail, with why."""
    from .sync import find_template_files, prepare_file

    partials: dict[str, str] = {}  # the library's own partials, for its templates' includes
    items: list[TemplateWrite] = []
    failed: list[tuple[str, str]] = []
    for file in find_template_files(starter_library()):
        try:
            item = prepare_file(service, file, file.category, partials=partials.get)
        except PbaError as exc:
            failed.append((str(file.path), exc.message))
            continue
        if item.kind == "partial":
            partials[item.name] = item.source
        items.append(item)
    return items, failed


async def seed_if_new(service: TemplateService) -> bool:
    """Import the starter library into a store that has never been seeded and holds no templates."""
    if await service.get_meta(SEEDED_KEY) is not None:
        return False
    seeded_at = datetime.now(UTC).isoformat()
    if await service.count(include_deleted=True, kind=None) > 0:
        await service.set_meta(SEEDED_KEY, seeded_at)  # someone filled it already: it needs no starter library
        return True
    items, failed = starter_items(service)
    # The library and the mark in one transaction: a store that could not be seeded (a full disk) holds
    # nothing, and the next start seeds it again.
    await service.save_all(
        items, origin="seed", author="seed", message="starter library", facts={SEEDED_KEY: seeded_at}
    )
    log.info("seeded store", added=[i.name for i in items], failed=failed)
    return True
