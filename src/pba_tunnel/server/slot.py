"""The service behind the server, opened once the handshake is answered; requests wait for it.

Opening the store imports SQLAlchemy and Jinja and runs migration and seeding checks: most of a cold
start. Clients only need ``initialize`` answered to consider the server up, so that comes first. A store
that cannot be opened leaves the server running and every request answered with the reason; a request at
least ``RETRY_SECONDS`` after the last failure tries again, so the server recovers by itself once the store
can be opened (space freed on a full disk, a file put back).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio
import structlog

from ..errors import PbaError, StoreError

if TYPE_CHECKING:
    from ..service import TemplateService

log = structlog.get_logger(__name__)
RETRY_SECONDS = 5.0


class ServiceSlot:
    """Holds the service once opened, or why it could not be."""

    def __init__(self, opener: Callable[[], Awaitable[TemplateService]]) -> None:
        self._opener = opener
        self._ready = anyio.Event()
        self._service: TemplateService | None = None
        self._error: PbaError | None = None
        self._failed_at = 0.0
        self._retrying = anyio.Lock()

    @classmethod
    def of(cls, service: TemplateService) -> ServiceSlot:
        """A slot holding an already open service."""

        async def opened() -> TemplateService:
            return service

        slot = cls(opened)
        slot._service = service
        slot._ready.set()
        return slot

    @property
    def opened(self) -> TemplateService | None:
        """The service if it is open, without waiting."""
        return self._service

    async def open(self) -> None:
        """Open the service (once); failures are kept and reported to every request."""
        if self._ready.is_set():
            return
        try:
            await self._attempt()
        finally:
            self._ready.set()

    async def _attempt(self) -> None:
        try:
            self._service = await self._opener()
            self._error = None
        except Exception as exc:  # an OSError from the file system too: the server keeps running and retries
            self._error = exc if isinstance(exc, PbaError) else StoreError(f"the store could not be opened: {exc}")
            self._failed_at = anyio.current_time()
            log.error("template store unavailable", error=self._error.message)

    async def get(self) -> TemplateService:
        """The service, waiting for it to open; StoreError when it could not."""
        await self._ready.wait()
        if self._service is None and anyio.current_time() - self._failed_at >= RETRY_SECONDS:
            async with self._retrying:
                if self._service is None and anyio.current_time() - self._failed_at >= RETRY_SECONDS:
                    await self._attempt()
        if self._service is None:
            reason = self._error.message if self._error else "the store was not opened"
            raise StoreError(f"{reason} (the server tries again every {RETRY_SECONDS:g} s)")
        return self._service

    async def close(self) -> None:
        """Close the service if it was opened."""
        if self._service is not None:
            await self._service.close()
