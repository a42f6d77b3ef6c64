"""API tokens for HTTP clients: created with a scope, shown once, kept only as a hash, checked per request.

A token is ``pbat_`` followed by 256 random bits (``secrets.token_urlsafe``). The store keeps its SHA-256: a
secret of that entropy needs no slow hash (nothing to brute-force), and looking a token up by its hash keeps
the lookup independent of which characters a guess got right; the final comparison is ``hmac.compare_digest``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, cast

import anyio

from .access import ANONYMOUS_NAME, ENV_TOKEN_NAME, SCOPES, RequestIdentity, Scope
from .errors import InvalidLabelError, NotFoundError, TokenError
from .labels import LATEST, check_label
from .store import Store
from .store.models import utcnow
from .store.tokens import TokenRecord

PREFIX = "pbat_"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
RESERVED_NAMES = frozenset({ENV_TOKEN_NAME, ANONYMOUS_NAME, "stdio", "cli"})  # authors that are not tokens
LAST_USED_EVERY = timedelta(minutes=1)  # "last used" is written at most this often per token (not per request)
# A verdict is trusted this long: a revocation (by any process) takes effect within it, and a request costs no
# store read in between. A few thousand entries at most: beyond that the cache starts afresh.
VERDICT_SECONDS = 1.0
MAX_VERDICTS = 4096

# "invalid-label": stored (before labels were checked at creation) with a label that names no label; refused.
TokenState = Literal["active", "expired", "revoked", "invalid-label"]


def hash_secret(secret: str) -> str:
    """The hex SHA-256 of a token, as the store keeps it."""
    return hashlib.sha256(secret.encode()).hexdigest()


def check_name(name: str) -> None:
    """TokenError unless ``name`` can name a token (it becomes the author of what the token changes)."""
    if not NAME_PATTERN.match(name):
        raise TokenError(f"'{name}' is no token name: use lowercase letters, digits, '-', '_' or '.' (at most 100)")
    if name in RESERVED_NAMES:
        raise TokenError(f"'{name}' is reserved (it names requests made without a token of the store)")


@dataclass(frozen=True)
class TokenInfo:
    """A token as ``token list`` shows it: never its secret."""

    name: str
    scope: Scope
    label: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    state: TokenState


@dataclass(frozen=True)
class Verdict:
    """What a presented token is: an identity, or why it is refused (``unknown``, ``expired``, ``revoked``, or
    ``invalid_label`` for a token stored with a label that names no label)."""

    identity: RequestIdentity | None
    refusal: str | None = None
    name: str | None = None  # the refused token's name, when it is known (``invalid_label``)
    label: str | None = None  # the stored label an ``invalid_label`` refusal is about


def state_of(record: TokenRecord, now: datetime) -> TokenState:
    """Whether a token may be used at ``now``."""
    if record.revoked_at is not None:
        return "revoked"
    if record.expires_at is not None and record.expires_at <= now:
        return "expired"
    return "active"


def has_valid_label(record: TokenRecord) -> bool:
    """False when the token was stored with a label no label can have (it is refused on every request)."""
    if record.label is None or record.label == LATEST:
        return True
    try:
        check_label(record.label)
    except InvalidLabelError:
        return False
    return True


def info_of(record: TokenRecord, now: datetime) -> TokenInfo:
    """The listing view of a stored token."""
    state = state_of(record, now)
    return TokenInfo(
        name=record.name,
        scope=cast(Scope, record.scope),
        label=record.label,
        created_at=record.created_at,
        expires_at=record.expires_at,
        last_used_at=record.last_used_at,
        state="invalid-label" if state == "active" and not has_valid_label(record) else state,
    )


class Tokens:
    """The tokens of one store."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._noted: dict[str, datetime] = {}  # name -> when "last used" was last written by this process
        self._verdicts: dict[str, tuple[float, datetime | None, Verdict]] = {}  # hash -> (looked, expires, verdict)
        # Hashes being looked up: the other requests with that token wait for the one look (or, when the token
        # had a verdict, go on with it meanwhile) instead of each querying the store at once.
        self._looking: dict[str, anyio.Event] = {}

    async def create(
        self, name: str, scope: str, *, label: str | None = None, lifetime: timedelta | None = None
    ) -> tuple[TokenInfo, str]:
        """A new token and its secret (shown once: the store keeps only its hash)."""
        check_name(name)
        if scope not in SCOPES:
            raise TokenError(f"'{scope}' is no scope: use one of {', '.join(SCOPES)}")
        if label == LATEST:  # 'latest' fixes no label: stored as none, so the server's own --label still applies
            label = None
        if label is not None:
            check_label(label)
        secret = PREFIX + secrets.token_urlsafe(32)
        expires_at = utcnow() + lifetime if lifetime is not None else None
        record = await self._store.insert_token(name, hash_secret(secret), scope, label=label, expires_at=expires_at)
        self._verdicts.clear()  # a revoked token of this name was replaced: its secret means nothing now
        return info_of(record, utcnow()), secret

    async def list(self) -> list[TokenInfo]:
        """Every token (revoked and expired ones too), by name, without secrets."""
        now = utcnow()
        return [info_of(record, now) for record in await self._store.list_tokens()]

    async def revoke(self, name: str) -> None:
        """Refuse the token from now on (every server process within a second)."""
        if not await self._store.revoke_token(name):
            raise NotFoundError(f"no live token named '{name}'")
        self._verdicts.clear()  # at once in this process; other processes look again within VERDICT_SECONDS

    async def any_live(self) -> bool:
        """True when the store has a token that is not revoked (then HTTP clients must present one)."""
        return await self._store.has_live_tokens()

    async def verify(self, secret: str) -> Verdict:
        """The identity a presented token stands for, or why it is refused (as the store said at most 1 s ago)."""
        if not secret.startswith(PREFIX):
            return Verdict(None, "unknown")
        presented = hash_secret(secret)
        looking = self._looking.get(presented)
        cached = self._verdicts.get(presented)
        if cached is not None and (looking is not None or time.monotonic() - cached[0] < VERDICT_SECONDS):
            _looked, expires_at, verdict = cached
            if verdict.identity is None or expires_at is None or expires_at > utcnow():
                return verdict
        if looking is not None:
            await looking.wait()
            return await self.verify(secret)
        self._looking[presented] = looked = anyio.Event()
        try:
            verdict, expires_at = await self._look_up(presented)
        finally:
            del self._looking[presented]
            looked.set()
        if len(self._verdicts) >= MAX_VERDICTS:
            self._verdicts.clear()
        self._verdicts[presented] = (time.monotonic(), expires_at, verdict)
        return verdict

    async def _look_up(self, presented: str) -> tuple[Verdict, datetime | None]:
        record = await self._store.token_by_hash(presented)
        if record is None or not hmac.compare_digest(record.secret_hash, presented):
            return Verdict(None, "unknown"), None
        now = utcnow()
        state = state_of(record, now)
        if state != "active":
            return Verdict(None, state), None
        if not has_valid_label(record):  # stored before labels were checked: refuse it, never fail each request
            return Verdict(None, "invalid_label", name=record.name, label=record.label), None
        await self._note_used(record.name, now)
        identity = RequestIdentity(
            name=record.name,
            scope=cast(Scope, record.scope),
            label=None if record.label == LATEST else record.label,  # stored so before 'latest' meant none
            token=True,
            rate_key=f"token:{record.name}",
        )
        return Verdict(identity), record.expires_at

    async def _note_used(self, name: str, now: datetime) -> None:
        last = self._noted.get(name)
        if last is not None and now - last < LAST_USED_EVERY:
            return
        self._noted[name] = now
        await self._store.note_token_used(name, now)
