"""Settings from PBA_TUNNEL_* variables: every limit is configurable, and bad or unknown settings are errors."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from pba_tunnel.config import Limits, load_settings, sqlite_url
from pba_tunnel.errors import ConfigError


def test_defaults() -> None:
    settings = load_settings({"PBA_TUNNEL_HOME": "/data/pba"})
    assert settings.home == Path("/data/pba")
    assert settings.database_url == "sqlite+aiosqlite:////data/pba/pba-tunnel.db"
    assert settings.sqlite_path == Path("/data/pba/pba-tunnel.db")
    assert settings.limits == Limits()
    assert settings.seed is True
    assert (settings.enhance_deadline_seconds, settings.provider_max_response_bytes) == (120.0, None)


def test_enhancement_bounds_are_settings() -> None:
    settings = load_settings(
        {"PBA_TUNNEL_ENHANCE_DEADLINE_SECONDS": "2.5", "PBA_TUNNEL_PROVIDER_MAX_RESPONSE_BYTES": "65536"}
    )
    assert (settings.enhance_deadline_seconds, settings.provider_max_response_bytes) == (2.5, 65536)
    assert load_settings({"PBA_TUNNEL_PROVIDER_MAX_RESPONSE_BYTES": ""}).provider_max_response_bytes is None


def test_every_limit_is_configurable_through_the_environment() -> None:
    values = {
        "max_source_bytes": "1000",
        "max_argument_bytes": "2000",
        "max_output_bytes": "3000",
        "max_render_seconds": "0.25",
        "max_range": "40",
        "max_recursion_depth": "5",
        "max_integer_bits": "64",
        "max_render_memory": "5000",
        "max_includes": "7",
        "max_template_tokens": "300",
    }
    assert set(values) == {f.name for f in fields(Limits)}
    settings = load_settings({f"PBA_TUNNEL_{name.upper()}": raw for name, raw in values.items()})
    assert settings.limits == Limits(
        max_source_bytes=1000,
        max_argument_bytes=2000,
        max_output_bytes=3000,
        max_render_seconds=0.25,
        max_range=40,
        max_recursion_depth=5,
        max_integer_bits=64,
        max_render_memory=5000,
        max_includes=7,
        max_template_tokens=300,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PBA_TUNNEL_MAX_RANGE": "lots"}, "PBA_TUNNEL_MAX_RANGE='lots' is not a number"),
        ({"PBA_TUNNEL_MAX_OUTPUT_BYTES": "1.5"}, "PBA_TUNNEL_MAX_OUTPUT_BYTES='1.5' is not a number"),
        ({"PBA_TUNNEL_MAX_RENDER_SECONDS": "0"}, "PBA_TUNNEL_MAX_RENDER_SECONDS must be positive, got 0"),
        ({"PBA_TUNNEL_ENHANCE_DEADLINE_SECONDS": "0"}, "PBA_TUNNEL_ENHANCE_DEADLINE_SECONDS must be positive, got 0"),
        ({"PBA_TUNNEL_ENHANCE_DEADLINE_SECONDS": "soon"}, "PBA_TUNNEL_ENHANCE_DEADLINE_SECONDS='soon' is not a number"),
        (
            {"PBA_TUNNEL_PROVIDER_MAX_RESPONSE_BYTES": "-1"},
            "PBA_TUNNEL_PROVIDER_MAX_RESPONSE_BYTES must be positive, got -1",
        ),
        (
            {"PBA_TUNNEL_PROVIDER_MAX_RESPONSE_BYTES": "1.5"},
            "PBA_TUNNEL_PROVIDER_MAX_RESPONSE_BYTES='1.5' is not a number",
        ),
        (
            {"PBA_TUNNEL_HTTP_HEADER_TIMEOUT_SECONDS": "0"},
            "PBA_TUNNEL_HTTP_HEADER_TIMEOUT_SECONDS must be positive, got 0",
        ),
        ({"PBA_TUNNEL_SEED": "sometimes"}, "PBA_TUNNEL_SEED='sometimes' is not a boolean: use 1/0, true/false, yes/no"),
    ],
)
def test_bad_values_are_config_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert caught.value.code == "config_error"
    assert caught.value.message == message


def test_unknown_settings_are_errors_not_ignored() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"PBA_TUNNEL_MAX_OUTPUT": "10", "OTHER_VARIABLE": "fine"})
    assert caught.value.message.startswith("unknown setting(s) PBA_TUNNEL_MAX_OUTPUT; known settings are: ")
    assert "PBA_TUNNEL_MAX_OUTPUT_BYTES" in caught.value.message


def test_options_win_over_the_environment(tmp_path: Path) -> None:
    settings = load_settings(
        {"PBA_TUNNEL_HOME": "/elsewhere", "PBA_TUNNEL_DATABASE_URL": "sqlite+aiosqlite:////env.db"},
        home=tmp_path,
        database_url=sqlite_url(tmp_path / "option.db"),
    )
    assert (settings.home, settings.sqlite_path) == (tmp_path, tmp_path / "option.db")


def test_the_process_environment_is_read_and_a_given_mapping_ignores_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PBA_TUNNEL_HOME", str(tmp_path))
    monkeypatch.setenv("PBA_TUNNEL_MAX_RANGE", "7")
    monkeypatch.setenv("PBA_TUNNEL_LOG_LEVEL", "debug")
    monkeypatch.setenv("PBA_TUNNEL_LOG_FORMAT", "json")
    monkeypatch.setenv("PBA_TUNNEL_AUTH_TOKEN", "")
    settings = load_settings()
    assert (settings.home, settings.limits.max_range, settings.log_level, settings.log_format) == (
        tmp_path,
        7,
        "debug",
        "json",
    )
    assert settings.auth_token is None  # empty counts as unset
    given = load_settings({"PBA_TUNNEL_HOME": "/given"})
    assert (given.home, given.limits, given.log_level) == (Path("/given"), Limits(), None)


def test_unknown_names_in_the_process_environment_are_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PBA_TUNNEL_SEEDS", "0")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.message.startswith("unknown setting(s) PBA_TUNNEL_SEEDS; known settings are: ")


def test_bad_values_in_the_process_environment_are_config_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PBA_TUNNEL_MAX_SOURCE_BYTES", "-1")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.message == "PBA_TUNNEL_MAX_SOURCE_BYTES must be positive, got -1"


URL_SETTING = "PBA_TUNNEL_DATABASE_URL / --database-url"


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("sqlite:////data/t.db", "sqlite+aiosqlite:////data/t.db"),
        ("SQLite:///t.db?mode=rwc", "sqlite+aiosqlite:///t.db?mode=rwc"),
        ("sqlite+aiosqlite:////data/t.db", "sqlite+aiosqlite:////data/t.db"),
        ("postgresql://pba:secret@db:5432/pba", "postgresql+asyncpg://pba:secret@db:5432/pba"),
        ("postgres://pba:secret@db/pba", "postgresql+asyncpg://pba:secret@db/pba"),
        ("postgresql+asyncpg://pba@db/pba", "postgresql+asyncpg://pba@db/pba"),
        ("mysql+aiomysql://pba@db/pba", "mysql+aiomysql://pba@db/pba"),  # another backend, with its async driver
        (" sqlite:////data/t.db\n", "sqlite+aiosqlite:////data/t.db"),  # pasted with spaces around it
    ],
)
def test_database_urls_without_the_async_driver_get_it(given: str, used: str) -> None:
    assert load_settings({"PBA_TUNNEL_DATABASE_URL": given}).database_url == used


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "postgresql+psycopg2://pba:secret@db/pba",
            "uses the driver 'postgresql+psycopg2', which the store cannot use: use "
            "postgresql+asyncpg://USER:PASSWORD@HOST/DATABASE",
        ),
        (
            "sqlite+pysqlite:///t.db",
            "uses the driver 'sqlite+pysqlite', which the store cannot use: use sqlite+aiosqlite:///PATH",
        ),
        ("mysql://pba:secret@db/pba", "names no async driver for mysql: write mysql+DRIVER://…"),
        (
            "secret@t.db",
            "is not a database URL (no scheme://): use sqlite+aiosqlite:///PATH or "
            "postgresql+asyncpg://USER:PASSWORD@HOST/DATABASE",
        ),
    ],
)
def test_database_urls_the_store_cannot_use_are_refused_without_showing_them(url: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"PBA_TUNNEL_DATABASE_URL": url})
    assert caught.value.message == f"{URL_SETTING} {message}"
    assert "secret" not in caught.value.message


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (" ", "PBA_TUNNEL_AUTH_TOKEN is blank: no client could authenticate; give a token of visible characters"),
        (
            "secret\n",
            "PBA_TUNNEL_AUTH_TOKEN starts or ends with whitespace, which an Authorization header cannot carry: "
            "remove it",
        ),
    ],
)
def test_a_token_no_client_could_send_is_refused(token: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"PBA_TUNNEL_AUTH_TOKEN": token})
    assert caught.value.message == message
    assert load_settings({"PBA_TUNNEL_AUTH_TOKEN": ""}).auth_token is None  # empty still means unset
