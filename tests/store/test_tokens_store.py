"""API tokens in the service: what a presented token stands for, and what the store keeps of it."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import anyio
import pytest

from pba_tunnel.access import RequestIdentity
from pba_tunnel.config import Settings
from pba_tunnel.errors import ConflictError, NotFoundError
from pba_tunnel.service import TemplateService
from pba_tunnel.tokens import hash_secret

pytestmark = pytest.mark.anyio


async def test_a_token_stands_for_its_name_scope_and_label(service: TemplateService) -> None:
    info, secret = await service.tokens.create("deploy", "write", label="production")
    assert (info.name, info.scope, info.label, info.state, info.expires_at) == (
        "deploy",
        "write",
        "production",
        "active",
        None,
    )
    verdict = await service.tokens.verify(secret)
    assert verdict.identity == RequestIdentity("deploy", "write", "production", token=True, rate_key="token:deploy")
    assert verdict.identity.author == "deploy"
    assert (await service.tokens.verify(secret + "x")).refusal == "unknown"
    assert (await service.tokens.verify("not-ours")).refusal == "unknown"
    [listed] = await service.tokens.list()
    assert listed.last_used_at is not None  # noted on use


async def test_a_token_for_latest_fixes_no_label_so_the_servers_label_still_applies(service: TemplateService) -> None:
    # A token that said 'latest' used to override a server's --label (and broke the web page's template view).
    info, secret = await service.tokens.create("reader", "read", label="latest")
    assert info.label is None
    verdict = await service.tokens.verify(secret)
    assert verdict.identity == RequestIdentity("reader", "read", None, token=True, rate_key="token:reader")


async def test_revoked_and_expired_tokens_are_refused_and_a_revoked_name_can_be_reused(
    service: TemplateService,
) -> None:
    _info, old = await service.tokens.create("ci", "read")
    with pytest.raises(ConflictError):
        await service.tokens.create("ci", "admin")
    await service.tokens.revoke("ci")
    assert (await service.tokens.verify(old)).refusal == "revoked"
    with pytest.raises(NotFoundError):
        await service.tokens.revoke("ci")

    _info, new = await service.tokens.create("ci", "admin")
    assert (await service.tokens.verify(old)).refusal == "unknown"  # the old secret is gone with its row
    verdict = await service.tokens.verify(new)
    assert verdict.identity is not None
    assert verdict.identity.scope == "admin"

    _info, brief = await service.tokens.create("brief", "read", lifetime=timedelta(milliseconds=50))
    await anyio.sleep(0.1)
    assert (await service.tokens.verify(brief)).refusal == "expired"
    assert {info.name: info.state for info in await service.tokens.list()} == {"brief": "expired", "ci": "active"}


async def test_the_store_keeps_only_the_hash(service: TemplateService, settings: Settings) -> None:
    _info, secret = await service.tokens.create("ci", "read")
    assert settings.sqlite_path is not None
    with sqlite3.connect(settings.sqlite_path) as connection:
        rows = connection.execute("SELECT * FROM api_tokens").fetchall()
    assert len(rows) == 1
    assert secret not in repr(rows)
    assert hash_secret(secret) in rows[0]
    assert await service.tokens.any_live()
    await service.tokens.revoke("ci")
    assert not await service.tokens.any_live()
