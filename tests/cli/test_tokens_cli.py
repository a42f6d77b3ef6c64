"""``pba-tunnel token create|list|revoke`` in a subprocess: the secret printed once, listings without secrets."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from conftest import run_cli
from pba_tunnel.errors import PeriodError, TokenError
from pba_tunnel.periods import parse_period
from pba_tunnel.tokens import check_name

NO_SEED = {"PBA_TUNNEL_SEED": "0"}


def test_create_prints_the_token_once_and_list_shows_everything_but_the_secret(home: Path) -> None:
    created = run_cli(
        "token", "create", "ci", "--scope", "write", "--label", "staging", "--expires", "30d", home=home, env=NO_SEED
    )
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("pbat_")
    assert len(secret) > 40
    assert created.stdout == secret + "\n"
    assert "copy it now, it is not shown again" in created.stderr

    listed = run_cli("token", "list", "--json", home=home, env=NO_SEED)
    [entry] = json.loads(listed.stdout)
    assert secret not in listed.stdout
    assert {k: entry[k] for k in ("name", "scope", "label", "state", "last_used_at")} == {
        "name": "ci",
        "scope": "write",
        "label": "staging",
        "state": "active",
        "last_used_at": None,
    }
    assert entry["expires_at"] > entry["created_at"]
    with sqlite3.connect(home / "pba-tunnel.db") as connection:
        assert connection.execute("SELECT name, scope FROM api_tokens").fetchall() == [("ci", "write")]

    revoked = run_cli("token", "revoke", "ci", home=home, env=NO_SEED)
    assert (revoked.returncode, revoked.stdout) == (0, "token 'ci' revoked\n")
    table = run_cli("token", "list", home=home, env=NO_SEED).stdout.splitlines()
    assert table[0].split() == ["NAME", "SCOPE", "LABEL", "CREATED", "EXPIRES", "LAST", "USED", "STATE"]
    assert table[1].split()[:3] == ["ci", "write", "staging"]
    assert table[1].endswith("revoked")


def test_mistakes_are_one_line_errors(home: Path) -> None:
    assert run_cli("token", "create", "ci", "--scope", "read", home=home, env=NO_SEED).returncode == 0
    cases = {
        ("token", "create", "ci", "--scope", "read"): "error: a token named 'ci' exists already: revoke it first\n",
        ("token", "revoke", "nobody"): "error: no live token named 'nobody'\n",
        # the `label` command and `serve --label` refuse it too: a token fixed to it could serve nothing
        ("token", "create", "w", "--scope", "read", "--label", "BAD"): (
            "error: 'BAD' is not a label name: use lowercase letters, digits, '-' and '_' (at most 100)\n"
        ),
    }
    for args, message in cases.items():
        result = run_cli(*args, home=home, env=NO_SEED)
        assert (result.returncode, result.stdout, result.stderr) == (1, "", message)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("auth-token", "'auth-token' is reserved (it names requests made without a token of the store)"),
        ("stdio", "'stdio' is reserved (it names requests made without a token of the store)"),
        ("Bad Name", "'Bad Name' is no token name: use lowercase letters, digits, '-', '_' or '.' (at most 100)"),
    ],
)
def test_names_that_cannot_name_a_token(name: str, message: str) -> None:
    with pytest.raises(TokenError) as caught:
        check_name(name)
    assert (caught.value.code, caught.value.message) == ("invalid_token_request", message)


@pytest.mark.parametrize(("text", "seconds"), [("30d", 30 * 86400), ("12h", 43200), ("90m", 5400), ("2w", 1209600)])
def test_lifetimes(text: str, seconds: int) -> None:
    assert parse_period(text, noun="lifetime").total_seconds() == seconds


@pytest.mark.parametrize("text", ["soon", "0d", "-1d", "5y", ""])
def test_what_is_no_lifetime(text: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period(text, noun="lifetime")
    assert caught.value.code == "invalid_period"
    assert caught.value.message == (
        f"'{text}' is no lifetime: use a positive number and a unit (s, m, h, d, w), e.g. 30d, 12h, 90m, 2w"
    )
