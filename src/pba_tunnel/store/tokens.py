"""API tokens: a name, a scope, an optional fixed label, and only the SHA-256 of the secret (never the secret)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from ..errors import ConflictError
from .connections import StoreBase
from .models import TOKENS, utcnow


def as_utc(moment: datetime | None) -> datetime | None:
    """A stored timestamp as an aware UTC datetime (SQLite hands them back naive)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class TokenRecord:
    """A token as the store keeps it, without any secret."""

    name: str
    secret_hash: str
    scope: str
    label: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def _record(get: Any) -> TokenRecord:
    return TokenRecord(
        name=get["name"],
        secret_hash=get["secret_hash"],
        scope=get["scope"],
        label=get["label"],
        created_at=as_utc(get["created_at"]) or utcnow(),
        expires_at=as_utc(get["expires_at"]),
        revoked_at=as_utc(get["revoked_at"]),
        last_used_at=as_utc(get["last_used_at"]),
    )


class TokenRecords(StoreBase):
    """Create, find, list and revoke API tokens."""

    async def insert_token(
        self, name: str, secret_hash: str, scope: str, *, label: str | None, expires_at: datetime | None
    ) -> TokenRecord:
        """Store a new token; a revoked token of the same name is replaced, a live one is a conflict."""
        now = utcnow()
        async with self._write() as connection:
            found = (await connection.execute(select(TOKENS).where(TOKENS.c.name == name))).mappings().first()
            if found is not None:
                if found["revoked_at"] is None:
                    raise ConflictError(f"a token named '{name}' exists already: revoke it first")
                await connection.execute(delete(TOKENS).where(TOKENS.c.name == name))
            values = {
                "name": name,
                "secret_hash": secret_hash,
                "scope": scope,
                "label": label,
                "created_at": now,
                "expires_at": expires_at,
            }
            await connection.execute(insert(TOKENS).values(**values))
        return TokenRecord(**values, revoked_at=None, last_used_at=None)  # type: ignore[arg-type]

    async def token_by_hash(self, secret_hash: str) -> TokenRecord | None:
        """The token whose secret hashes to ``secret_hash``, revoked or not; None when there is none."""
        async with self._read() as connection:
            query = select(TOKENS).where(TOKENS.c.secret_hash == secret_hash)
            row = (await connection.execute(query)).mappings().first()
        return None if row is None else _record(row)

    async def list_tokens(self) -> list[TokenRecord]:
        """Every token, revoked ones too, by name."""
        async with self._read() as connection:
            rows = (await connection.execute(select(TOKENS).order_by(TOKENS.c.name))).mappings().all()
        return [_record(row) for row in rows]

    async def revoke_token(self, name: str) -> bool:
        """Mark a live token revoked; False when no live token has that name."""
        async with self._write() as connection:
            done = await connection.execute(
                update(TOKENS).where(TOKENS.c.name == name, TOKENS.c.revoked_at.is_(None)).values(revoked_at=utcnow())
            )
        return bool(done.rowcount)

    async def note_token_used(self, name: str, when: datetime) -> None:
        """Remember when a token was last used."""
        async with self._write() as connection:
            await connection.execute(update(TOKENS).where(TOKENS.c.name == name).values(last_used_at=when))

    async def has_live_tokens(self) -> bool:
        """True when some token is not revoked (then HTTP clients must present one)."""
        async with self._read() as connection:
            found = await connection.execute(select(TOKENS.c.id).where(TOKENS.c.revoked_at.is_(None)).limit(1))
            return found.first() is not None
