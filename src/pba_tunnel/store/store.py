"""The template store: one class made of its parts (reads, writes, search, events), and how it is opened."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.exc import ArgumentError, InvalidRequestError
from sqlalchemy.ext.asyncio import create_async_engine

from ..errors import StoreError
from ..files import make_folder
from ..local_errors import FolderError, StoreFolderError
from .bulk import BulkWrites
from .dialects import Dialect, dialect_for
from .events import EventLog
from .following import ChangeFollowing, ServerDatabaseOptions, engine_options
from .labels import LabelStore
from .opening import check_sqlite_file, sqlite_file
from .reads import TemplateReads
from .searching import SearchReads
from .tables import FullTextHit, PromptLabel, PromptRow
from .tokens import TokenRecords
from .usage import UsageStore

__all__ = ["FullTextHit", "PromptLabel", "PromptRow", "Store"]


class Store(TemplateReads, BulkWrites, SearchReads, EventLog, ChangeFollowing, LabelStore, UsageStore, TokenRecords):
    """Async access to the templates of one database."""

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        migrate_schema: bool = True,
        dialect: Dialect | None = None,
        server_options: ServerDatabaseOptions | None = None,
    ) -> Store:
        """Connect, and create or migrate the schema when needed; ``dialect`` overrides the URL's."""
        path = sqlite_file(url)
        if path is not None:
            try:
                make_folder(Path(path).parent)
            except FolderError as exc:
                raise StoreFolderError(exc.path, exc.reason) from None
            check_sqlite_file(Path(path))
        dialect = dialect or dialect_for(url, path)
        try:
            options = server_options or ServerDatabaseOptions()
            engine = create_async_engine(url, **engine_options(url, options))
        except (ImportError, ValueError, ArgumentError, InvalidRequestError) as exc:
            scheme, _, rest = url.partition("://")
            shown = f"{scheme}://…@{rest.rsplit('@', 1)[-1]}" if "@" in rest else url  # never the password
            raise StoreError(f"cannot use database URL {shown!r}: {exc}") from None
        dialect.prepare(engine)
        store = cls(engine, dialect, url)
        store.server_options = options
        if migrate_schema:
            try:
                if await store.upgrade():
                    await store.reindex()  # a new schema may index differently; rebuilding is cheap
            except BaseException:
                await store.close()  # a broken store must not leave its connection (and thread) behind
                raise
        return store
