"""``token create|list|revoke``: API tokens for HTTP clients (the secret is printed once, the store keeps a hash)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from ..access import SCOPES
from .app import cli, echo_json, fail, run

if TYPE_CHECKING:
    from ..tokens import TokenInfo


def when(moment: datetime | None) -> str:
    """A timestamp as the listing shows it (UTC, to the minute); '-' for none."""
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "-"


def plain(info: TokenInfo) -> dict[str, Any]:
    """A token as JSON: ISO timestamps, never a secret."""
    return {
        "name": info.name,
        "scope": info.scope,
        "label": info.label,
        "state": info.state,
        "created_at": info.created_at.isoformat(),
        "expires_at": info.expires_at.isoformat() if info.expires_at else None,
        "last_used_at": info.last_used_at.isoformat() if info.last_used_at else None,
    }


@cli.group()
def token() -> None:
    """API tokens for HTTP clients: each has a scope (read, write, admin) and may fix a label."""


@token.command("create")
@click.argument("name")
@click.option("--scope", type=click.Choice(SCOPES), required=True, help="What the token may do.")
@click.option("--label", default=None, help="The only label this token's clients see (e.g. production).")
@click.option(
    "--expires", default=None, metavar="DURATION", help="Lifetime, e.g. 30d, 12h, 2w; at most 3650d (default: never)."
)
def create(name: str, scope: str, label: str | None, expires: str | None) -> None:
    """Create a token and print it once: the store keeps only its hash."""
    from ..errors import PbaError
    from ..periods import parse_period

    try:  # before the store is imported and opened: a mistyped lifetime is told at once
        lifetime = parse_period(expires, noun="lifetime") if expires is not None else None
    except PbaError as exc:
        fail(exc.message)
    info, secret = run(lambda service: service.tokens.create(name, scope, label=label, lifetime=lifetime))
    click.echo(secret)
    until = f", expires {when(info.expires_at)} UTC" if info.expires_at else ""
    click.echo(
        f"token '{info.name}' ({info.scope}{f', label {info.label}' if info.label else ''}{until}) created: "
        "copy it now, it is not shown again. Clients send 'Authorization: Bearer <token>'.",
        err=True,
    )


@token.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def list_tokens(as_json: bool) -> None:
    """List tokens (never their secrets): scope, label, created, expires, last used, state."""
    infos = run(lambda service: service.tokens.list())
    if as_json:
        echo_json([plain(info) for info in infos])
        return
    if not infos:
        click.echo("no tokens: HTTP clients need none on loopback unless PBA_TUNNEL_AUTH_TOKEN is set", err=True)
        return
    click.echo(f"{'NAME':<20} {'SCOPE':<6} {'LABEL':<12} {'CREATED':<16} {'EXPIRES':<16} {'LAST USED':<16} STATE")
    for info in infos:
        click.echo(
            f"{info.name:<20} {info.scope:<6} {info.label or '-':<12} {when(info.created_at):<16} "
            f"{when(info.expires_at):<16} {when(info.last_used_at):<16} {info.state}"
        )


@token.command("revoke")
@click.argument("name")
def revoke(name: str) -> None:
    """Refuse a token from now on (every server process within a second)."""
    run(lambda service: service.tokens.revoke(name))
    click.echo(f"token '{name}' revoked")
