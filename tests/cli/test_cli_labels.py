"""``pba-tunnel label``, ``history``, ``show --label``, ``render --label`` and ``stats``, through the real command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import anyio
import pytest

from conftest import make_settings, run_cli, template_source
from pba_tunnel.service import TemplateService

QUIET = {"PBA_TUNNEL_SEED": "0", "PBA_TUNNEL_LOG_LEVEL": "warning"}


async def _two_versions(home: Path) -> None:
    service = await TemplateService.open(make_settings(home))
    try:
        await service.create(template_source(body="user:\nHello {{ who }}!"), name="greet", author="ann")
        await service.update("greet", template_source(body="user:\nHi {{ who }}!"), author="bob")
        await service.create(template_source(body="user:\nBye {{ who }}!"), name="bye", author="ann")
    finally:
        await service.close()


def cli(home: Path, *args: str) -> str:
    result = run_cli(*args, home=home, env=QUIET)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_labels_authors_and_statistics_from_the_command_line(home: Path) -> None:
    anyio.run(_two_versions, home)

    assert (
        cli(home, "label", "greet", "production", "--version", "1") == "production of greet now points at version 1\n"
    )
    refused = run_cli("label", "greet", "production", "--expected-version", "2", home=home, env=QUIET)
    assert refused.returncode == 1
    assert refused.stderr == (
        "error: label 'production' of 'greet' points at version 1, not version 2: someone moved it meanwhile\n"
    )
    assert cli(home, "render", "greet", "-a", "who=Al", "--label", "production") == "user:\nHello Al!\n"
    assert cli(home, "render", "greet", "-a", "who=Al") == "user:\nHi Al!\n"
    both = run_cli("render", "greet", "-a", "who=Al", "--label", "production", "--version", "2", home=home, env=QUIET)
    assert (both.returncode, both.stderr) == (
        1,
        "error: template 'greet' shows only its 'production' version here: --label production shows only the "
        "version it points at; drop --label to pick another\n",
    )

    history = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "TIME", cli(home, "history", "greet"))
    assert re.sub(r"\b[0-9a-f]{10}\b", "HASH", history).splitlines() == [
        "  v1    TIME  cli      ann          HASH  created  [production]",
        "* v2    TIME  cli      bob          HASH  ",
        "  label production: -> 1  TIME  by cli",
    ]

    stats = json.loads(cli(home, "stats", "--by", "label", "--since", "2w", "--json"))  # units as token lifetimes
    assert [(s["name"], s["group"], s["renders"], s["errors"]) for s in stats["stats"]] == [
        ("greet", "latest", 1, 0),
        ("greet", "production", 1, 0),
    ]
    assert json.loads(cli(home, "stats", "--unused", "12h", "--json")) == [{"name": "bye", "last_used": None}]
