"""Live template folders: edits on disk become store writes while the server runs.

A created or changed file is parsed and saved (a new version only when its content changed); an invalid
file is reported on stderr and leaves the stored version as it was; a deleted file soft-deletes its
template. Bursts of editor saves arrive as one batch (watchfiles debounces them). On start the folder is
imported once, so files edited while the server was down are picked up (deletions made while it was down
are not: nothing records which stored template came from which file until the watcher has seen it).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import structlog
from watchfiles import Change, awatch

from .errors import NotFoundError, PbaError
from .sync import TEMPLATE_SUFFIX, TemplateFile, find_template_files, prepare_file

if TYPE_CHECKING:
    from .service import TemplateService

log = structlog.get_logger(__name__)
DEBOUNCE_MS = 300


class FolderWatcher:
    """Keeps one folder of template files and the store in step."""

    def __init__(self, service: TemplateService, root: Path) -> None:
        self.service = service
        self.root = root.resolve()
        self.names: dict[Path, str] = {}  # file -> the template name it holds, as last applied

    def _template_file(self, path: Path) -> TemplateFile | None:
        try:
            relative = path.relative_to(self.root)
        except ValueError:
            return None
        if path.suffix != TEMPLATE_SUFFIX or any(part.startswith(".") for part in relative.parts):
            return None  # editors' swap and backup files, hidden folders
        folder = relative.parent.as_posix()
        return TemplateFile(path, relative.as_posix(), None if folder == "." else folder, root=self.root)

    async def sync_all(self) -> None:
        """Apply every file once (unchanged files create no version)."""
        for file in find_template_files(self.root):
            await self._changed(file)

    async def apply(self, changes: set[tuple[Change, str]]) -> None:
        """Apply one debounced batch of file-system changes."""
        # Partials first, so a template and the partial it now includes can change in one batch.
        for _change, raw in sorted(changes, key=lambda c: ("_partials" not in c[1], c[1])):
            path = Path(raw)
            file = self._template_file(path)
            if file is None:
                continue
            if path.is_file():
                await self._changed(file)
            else:
                await self._deleted(path)

    async def _changed(self, file: TemplateFile) -> None:
        try:
            item = prepare_file(self.service, file, file.category)
            result = await self.service.save(
                item, origin="watch", author="watch", message=f"changed on disk: {file.relative}", restore_deleted=True
            )
        except PbaError as exc:
            log.warning(
                "template file not applied; the stored version is unchanged", path=str(file.path), reason=exc.message
            )
            return
        self.names[file.path] = result.name
        if result.changed:
            log.info("template file applied", path=str(file.path), name=result.name, version=result.version)

    async def _deleted(self, path: Path) -> None:
        name = self.names.pop(path, None)
        if name is None or name in self.names.values():
            return  # never applied, or another file now holds that name
        try:
            if await self.service.delete(name, author="watch"):
                log.info("template file deleted; template soft-deleted", path=str(path), name=name)
        except NotFoundError:
            pass

    async def run(self) -> None:
        """Import the folder, then follow its changes until cancelled."""
        await self.sync_all()
        log.info("watching template folder", folder=str(self.root))
        async for changes in awatch(self.root, debounce=DEBOUNCE_MS, step=50, recursive=True):
            await self.apply(changes)
