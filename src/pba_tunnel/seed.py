"""Seeding an empty store from the starter library that ships inside the package."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import structlog

from .service import TemplateService

SEEDED_KEY = "seeded_at"
log = structlog.get_logger(__name__)


def starter_library() -> Path:
    """The bundled templates: inside the wheel (``_starter``) or, in a checkout, the repository's ``templates/``."""
    bundled = resources.files("pba_tunnel") / "_starter"
    if bundled.is_dir():
        return Path(str(bundled))
    return Path(__file__).resolve().parents[2] / "templates"


async def seed_if_new(service: TemplateService) -> bool:
    """Import the starter library into a store that has never been seeded and holds no templates."""
    from .sync import import_path

    if await service.get_meta(SEEDED_KEY) is not None:
        return False
    if await service.count(include_deleted=True, kind=None) == 0:
        report = await import_path(service, starter_library(), origin="seed")
        log.info("seeded store", added=report.added, failed=len(report.failed))
    await service.set_meta(SEEDED_KEY, datetime.now(UTC).isoformat())
    return True
