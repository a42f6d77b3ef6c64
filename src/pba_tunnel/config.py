"""Settings read from the environment (``PBA_TUNNEL_*``) and command-line options.

:class:`Settings` is a pydantic-settings object and the package's only reader of the environment: every other
module gets its settings from one (providers' own variables such as ``OPENAI_API_KEY`` are a second
pydantic-settings class in ``providers/settings.py``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import platformdirs
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from .errors import ConfigError

ENV_PREFIX = "PBA_TUNNEL_"
MAX_VERSION = 2**31 - 1  # versions beyond this cannot exist; bigger numbers are refused at the boundary


@dataclass(frozen=True)
class Limits:
    """Bounds on what a template may cost; each has its own error when exceeded."""

    max_source_bytes: int = 100 * 1024
    max_argument_bytes: int = 100 * 1024
    max_output_bytes: int = 1024 * 1024
    max_render_seconds: float = 1.0
    max_range: int = 100_000
    max_recursion_depth: int = 64
    max_integer_bits: int = 16_384  # wide enough for any printable int (Python prints at most 4,300 digits)
    max_render_memory: int = 32 * 1024 * 1024  # characters plus 8 per list item, summed over one render
    max_includes: int = 1000  # partials rendered by one render (and counted statically at parse time)
    max_template_tokens: int = 20_000  # Jinja tokens of one template and its partials: bounds parse and analysis


_LIMITS = Limits()
_LIMIT_NAMES = tuple(f.name for f in fields(Limits))
_FLOAT_FIELDS = frozenset(
    {
        "max_render_seconds",
        "enhance_deadline_seconds",
        "database_timeout",
        "database_query_timeout",
        "change_check_seconds",
        "http_header_timeout_seconds",
    }
)
_RATE_FIELDS = ("rate_requests", "rate_renders", "rate_enhancements")
_BURST_FIELDS = ("rate_requests_burst", "rate_renders_burst", "rate_enhancements_burst")


def default_home() -> Path:
    """The platform's user data directory for MCP-PBA-TUNNEL."""
    return Path(platformdirs.user_data_dir("pba-tunnel", appauthor=False))


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy async URL of a SQLite file."""
    return f"sqlite+aiosqlite:///{path}"


def env_name(field_name: str) -> str:
    """The environment variable of a :class:`Settings` field, e.g. ``PBA_TUNNEL_MAX_RANGE``."""
    return f"{ENV_PREFIX}{field_name.upper()}"


# Set while settings are built from a given mapping (tests, benchmarks): the process environment is then ignored.
_ENVIRONMENT_IGNORED: ContextVar[bool] = ContextVar("pba_tunnel_environment_ignored", default=False)


class EnvironmentSettings(BaseSettings):
    """Base of the package's settings classes: values passed in win over the environment; no .env files."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],  # noqa: ARG003
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,  # noqa: ARG003
        file_secret_settings: PydanticBaseSettingsSource,  # noqa: ARG003
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Options passed in (the command line) win over the environment; no .env or secrets files."""
        return (init_settings,) if _ENVIRONMENT_IGNORED.get() else (init_settings, env_settings)


class Settings(EnvironmentSettings):
    """Where the store lives, how rendering is bounded, how the process logs; one field per variable."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid")

    home: Path = Field(default_factory=default_home)
    # Empty means the SQLite file ``pba-tunnel.db`` under ``home``.
    database_url: str = ""
    seed: bool = True
    # Server databases (PostgreSQL): longest wait to connect, and for one statement (or a free pooled connection);
    # a request fails with "template store unavailable" rather than hang while the database is down.
    database_timeout: float = 5.0
    database_query_timeout: float = 30.0
    # How often each instance reads the change counter in case a notification was missed (PostgreSQL).
    change_check_seconds: float = 2.0
    # Render events (statistics, completion values) older than this many days are pruned.
    render_event_days: int = 90
    # Usage statistics (renders per template, version, label, client and day); daily rows are kept this many days.
    usage_stats: bool = True
    usage_days: int = 90
    # Labels only the admin scope may move or remove (comma-separated in the environment).
    protected_labels: Annotated[tuple[str, ...], NoDecode] = ("production",)
    # Completion offers values other clients used too, not only the caller's own.
    share_argument_values: bool = False
    # prompts/list and resources/list page size: many clients never follow nextCursor, so a page holds a
    # library of normal size whole.
    page_size: int = 1000
    # Rows per page of the web library (and search results shown there): it walks pages by cursor.
    web_page_size: int = 50
    # Templates kept parsed and compiled in memory, least recently used dropped first: ~12 KB each for a short
    # template; one not kept costs ~1 ms more to get or render.
    template_cache: int = 500
    # Streamable-HTTP sessions one client (token, else address) may hold at once.
    http_sessions_per_client: int = 64
    # Streamable HTTP answers: auto = JSON bodies, SSE streams for stateful clients that declare sampling
    # (see server/run_options).
    http_responses: Literal["auto", "json", "sse"] = "auto"
    # A request's headers (a few KB) must arrive within this many seconds of the connection opening, or of the
    # request's first byte on a kept-alive connection, or the connection is closed (slow-loris). Far above what any
    # working link needs, and a third of the body deadline; a slot held this long costs an attacker a new
    # connection every few milliseconds to keep the server's 4,096 connections full.
    http_header_timeout_seconds: float = 10.0
    max_source_bytes: int = _LIMITS.max_source_bytes
    max_argument_bytes: int = _LIMITS.max_argument_bytes
    max_output_bytes: int = _LIMITS.max_output_bytes
    max_render_seconds: float = _LIMITS.max_render_seconds
    max_range: int = _LIMITS.max_range
    max_recursion_depth: int = _LIMITS.max_recursion_depth
    max_integer_bits: int = _LIMITS.max_integer_bits
    max_render_memory: int = _LIMITS.max_render_memory
    max_includes: int = _LIMITS.max_includes
    max_template_tokens: int = _LIMITS.max_template_tokens
    # None: the command's own default (``serve`` logs at info, other commands at warning).
    log_level: str | None = None
    log_format: str | None = None
    auth_token: str | None = Field(default=None, repr=False)
    # Where the test suite and the bench keep the Node MCP clients; empty or unset means the default cache.
    node_clients: str | None = None
    # Read by providers/settings.py for every provider; None leaves the provider's own default.
    provider_timeout: float | None = None
    provider_retries: int | None = None
    # Bytes of one HTTP response a provider reads before refusing it (a template is at most max_source_bytes).
    provider_max_response_bytes: int | None = None
    # One enhancement, every model call, retry and backoff wait included, ends with an error after this long.
    enhance_deadline_seconds: float = 120.0
    # HTTP rate limits per token (per client address without one): a token bucket refilled at this many per
    # second, holding at most the burst. 0 turns a limit off. Renders (prompts/get, render_template) and
    # enhancements (enhance_template) have buckets of their own besides the one every request draws from.
    rate_requests: float = 50.0
    rate_requests_burst: int = 200
    rate_renders: float = 20.0
    rate_renders_burst: int = 100
    rate_enhancements: float = 0.2
    rate_enhancements_burst: int = 5

    @model_validator(mode="before")
    @classmethod
    def _resolve_home_and_url(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        home = Path(data.get("home") or default_home()).expanduser()
        url = data.get("database_url") or sqlite_url(home / "pba-tunnel.db")
        return {**data, "home": home, "database_url": url}

    @field_validator(
        *_LIMIT_NAMES,
        "render_event_days",
        "usage_days",
        "page_size",
        "web_page_size",
        "template_cache",
        "http_sessions_per_client",
        "enhance_deadline_seconds",
        "provider_max_response_bytes",
        "database_timeout",
        "database_query_timeout",
        "change_check_seconds",
        "http_header_timeout_seconds",
        *_BURST_FIELDS,
        mode="before",
    )
    @classmethod
    def _positive_number(cls, raw: Any, info: ValidationInfo) -> Any:
        if raw is None or (raw == "" and info.field_name == "provider_max_response_bytes"):
            return None  # optional: the provider's own default (an empty variable counts as unset)
        name = env_name(info.field_name or "")
        value = _number(name, raw, float if info.field_name in _FLOAT_FIELDS else int)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value  # not a number at all: pydantic says so
        if value <= 0:
            raise ConfigError(f"{name} must be positive, got {raw}")
        return value

    @field_validator(*_RATE_FIELDS, mode="before")
    @classmethod
    def _rate(cls, raw: Any, info: ValidationInfo) -> Any:
        name = env_name(info.field_name or "")
        value = _number(name, raw, float)
        if isinstance(value, int | float) and not isinstance(value, bool) and not 0 <= value < float("inf"):
            raise ConfigError(f"{name} must be a number of requests per second, 0 or more (0: no limit), got {raw}")
        return value

    @field_validator("provider_timeout", "provider_retries", mode="before")
    @classmethod
    def _optional_number(cls, raw: Any, info: ValidationInfo) -> Any:
        if raw is None or raw == "":  # an empty variable counts as unset
            return None
        return _number(env_name(info.field_name or ""), raw, float if info.field_name == "provider_timeout" else int)

    @field_validator("auth_token", "node_clients", mode="before")
    @classmethod
    def _empty_as_unset(cls, raw: Any, info: ValidationInfo) -> Any:
        if raw == "":
            return None
        if info.field_name == "auth_token" and isinstance(raw, str):
            return checked_auth_token(raw, env_name("auth_token"))
        return raw

    @field_validator("database_url")
    @classmethod
    def _async_database_url(cls, url: str) -> str:
        return async_database_url(url, f"{env_name('database_url')} / --database-url")

    @field_validator("protected_labels", mode="before")
    @classmethod
    def _names(cls, raw: Any) -> Any:
        if isinstance(raw, str):
            return tuple(name.strip() for name in raw.split(",") if name.strip())
        return raw

    @field_validator("seed", "share_argument_values", "usage_stats", mode="before")
    @classmethod
    def _boolean(cls, raw: Any, info: ValidationInfo) -> Any:
        if not isinstance(raw, str):
            return raw
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{env_name(info.field_name or '')}={raw!r} is not a boolean: use 1/0, true/false, yes/no")

    @property
    def limits(self) -> Limits:
        """The render limits as one value (what the renderer and the service take)."""
        return Limits(**{name: getattr(self, name) for name in _LIMIT_NAMES})

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file behind ``database_url``, or None for other databases."""
        prefix = "sqlite+aiosqlite:///"
        if self.database_url.startswith(prefix):
            return Path(self.database_url.removeprefix(prefix).split("?", 1)[0])
        return None


# The drivers the store is tested with (installed with the package); SQLAlchemy's defaults for these schemes
# are synchronous drivers, which its asyncio engine refuses.
ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg", "postgres": "asyncpg"}
URL_EXAMPLES = {"sqlite": "sqlite+aiosqlite:///PATH", "postgresql": "postgresql+asyncpg://USER:PASSWORD@HOST/DATABASE"}


def async_database_url(url: str, name: str) -> str:
    """``url`` with the async driver the store uses: ``sqlite://`` and ``postgresql://`` (or ``postgres://``)
    gain ``+aiosqlite`` / ``+asyncpg``; ConfigError for another driver of those, or no ``scheme://`` at all.

    ``name`` is the setting or option the URL came from; the message names it and the scheme, never the URL
    (it may hold a password).
    """
    scheme, separator, rest = url.strip().partition("://")  # spaces around a pasted URL are never meant
    if not separator or not scheme:
        examples = " or ".join(URL_EXAMPLES.values())
        raise ConfigError(f"{name} is not a database URL (no scheme://): use {examples}")
    backend, _, driver = scheme.lower().partition("+")
    wanted = ASYNC_DRIVERS.get(backend)
    if wanted is None:
        if not driver:  # every other SQLAlchemy backend defaults to a synchronous driver
            raise ConfigError(f"{name} names no async driver for {backend}: write {backend}+DRIVER://…")
        return url.strip()
    if driver and driver != wanted:
        example = URL_EXAMPLES["sqlite" if backend == "sqlite" else "postgresql"]
        raise ConfigError(f"{name} uses the driver {scheme!r}, which the store cannot use: use {example}")
    canonical = "sqlite" if backend == "sqlite" else "postgresql"
    return f"{canonical}+{wanted}://{rest}"


def checked_auth_token(token: str, name: str) -> str:
    """``token`` unless no client could send it: blank, or with spaces around it (clients' headers lose them)."""
    if not token.strip():
        raise ConfigError(f"{name} is blank: no client could authenticate; give a token of visible characters")
    if token != token.strip():
        raise ConfigError(
            f"{name} starts or ends with whitespace, which an Authorization header cannot carry: remove it"
        )
    return token


def _number(name: str, raw: Any, kind: type[int] | type[float]) -> Any:
    if not isinstance(raw, str):
        return raw  # a value passed in, not read from the environment: pydantic checks its type
    try:
        return kind(raw)
    except ValueError:
        noun = "an integer" if kind is int and name.endswith("_RETRIES") else "a number"
        raise ConfigError(f"{name}={raw!r} is not {noun}") from None


# How ``serve --workers N`` hands its settings to the worker processes uvicorn spawns (they import our app
# factory afresh and inherit only the environment). Not a setting: written by the parent, read by the workers.
WORKER_OPTIONS_VARIABLE = f"{ENV_PREFIX}WORKER_OPTIONS"
KNOWN_VARIABLES = frozenset({*(env_name(name) for name in Settings.model_fields), WORKER_OPTIONS_VARIABLE})
SettingsT = TypeVar("SettingsT", bound=EnvironmentSettings)


def settings_from(cls: type[SettingsT], environ: Mapping[str, str] | None = None, **options: Any) -> SettingsT:
    """``cls`` from the process environment, or from ``environ`` alone (tests); ``options`` win over both."""
    try:
        if environ is None:
            return cls(**options)
        prefix = cls.model_config.get("env_prefix") or ""
        ignore_empty = cls.model_config.get("env_ignore_empty", False)
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = environ.get(f"{prefix}{name}".upper())
            if raw is not None and not (ignore_empty and raw == ""):
                values[name] = raw
        token = _ENVIRONMENT_IGNORED.set(True)
        try:
            return cls(**{**values, **options})
        finally:
            _ENVIRONMENT_IGNORED.reset(token)
    except ValidationError as exc:
        # Name the setting, never its value: the value might be a secret.
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid settings: {problems}") from None


def check_known(environ: Mapping[str, str]) -> None:
    """ConfigError when ``environ`` has a ``PBA_TUNNEL_*`` name no setting reads (a typo would go unnoticed)."""
    unknown = sorted(name for name in environ if name.startswith(ENV_PREFIX) and name not in KNOWN_VARIABLES)
    if unknown:
        known = ", ".join(sorted(KNOWN_VARIABLES))
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)}; known settings are: {known}")


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    home: Path | None = None,
    database_url: str | None = None,
) -> Settings:
    """Build settings from the environment; explicit arguments (command-line options) win."""
    # pydantic-settings reads the values but cannot list names it has no field for, so this one check
    # looks at the names of the process environment itself.
    check_known(os.environ if environ is None else environ)
    options: dict[str, Any] = {}
    if home is not None:
        options["home"] = home
    if database_url:
        options["database_url"] = database_url
    return settings_from(Settings, environ, **options)


def export_worker_options(settings: Settings, **options: Any) -> None:
    """Put ``settings`` and serve ``options`` in this process's environment for the worker processes it starts."""
    payload = {"settings": settings.model_dump(mode="json"), "options": options}
    os.environ[WORKER_OPTIONS_VARIABLE] = json.dumps(payload)


def worker_options() -> tuple[Settings, dict[str, Any]]:
    """In a worker process: the settings and serve options its parent exported."""
    raw = os.environ.get(WORKER_OPTIONS_VARIABLE)
    if not raw:
        raise ConfigError(f"{WORKER_OPTIONS_VARIABLE} is not set: worker processes are started by 'serve --workers'")
    payload = json.loads(raw)
    return settings_from(Settings, {}, **payload["settings"]), dict(payload["options"])
