"""Opening a store: where its SQLite file is, refusing files that are no database, and wording failures."""

from __future__ import annotations

from pathlib import Path

from ..errors import StoreError


def sqlite_file(url: str) -> str | None:
    """The file of an SQLite URL; None for other databases and for ``:memory:``."""
    if not url.startswith("sqlite") or "///" not in url:
        return None
    path = url.split("///", 1)[1].split("?", 1)[0]
    return path if path and path != ":memory:" else None


def describe_database_error(url: str, exc: BaseException) -> str:
    """One line saying which store cannot be used and why (no password: only what follows the @)."""
    detail = str(getattr(exc, "orig", exc)).strip() or type(exc).__name__
    where = url.split("///", 1)[-1] if url.startswith("sqlite") else url.split("@")[-1]
    if "file is not a database" in detail or "malformed" in detail:
        return (
            f"the store {where} is not a valid SQLite database ({detail}); move the file away or point "
            "PBA_TUNNEL_DATABASE_URL / --database-url at another store"
        )
    return f"the store {where} cannot be used: {detail}"


SQLITE_HEADER = b"SQLite format 3\x00"


def check_sqlite_file(path: Path) -> None:
    """Refuse, before connecting, a path that holds something other than an SQLite database."""
    fix = "move the file away or point PBA_TUNNEL_DATABASE_URL / --database-url at another store"
    if path.is_dir():
        raise StoreError(f"the store {path} is a folder, not a database file; {fix.replace('file', 'folder', 1)}")
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return  # a new store
    except OSError as exc:
        raise StoreError(f"the store {path} cannot be read: {exc.strerror}; {fix}") from None
    if header and header != SQLITE_HEADER:
        raise StoreError(f"the store {path} is not a valid SQLite database (file is not a database); {fix}")
