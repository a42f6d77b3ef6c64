"""Opening the service as the CLI and the server do: the store, and the starter library on first start.

It lives above both the service and the seed, so the service never imports what fills it.
"""

from __future__ import annotations

from .config import Settings
from .seed import seed_if_new
from .service import TemplateService


async def open_service(settings: Settings) -> TemplateService:
    """Open the service over the store in ``settings``; seed the store on first start when ``settings.seed``."""
    service = await TemplateService.open(settings)
    if not settings.seed:
        return service
    try:
        if await seed_if_new(service):
            await service.sync_changes()  # note the generation after seeding, as a service opened later would
    except BaseException:
        await service.close()  # a seed that failed (a full disk) must not leave its connections behind
        raise
    return service
