"""Settings read from the environment (``PBA_TUNNEL_*``) and command-line options."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import platformdirs

from .errors import ConfigError

ENV_PREFIX = "PBA_TUNNEL_"


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


@dataclass(frozen=True)
class Settings:
    """Where the store lives and how rendering is bounded."""

    home: Path
    database_url: str
    limits: Limits = field(default_factory=Limits)
    seed: bool = True

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file behind ``database_url``, or None for other databases."""
        prefix = "sqlite+aiosqlite:///"
        if self.database_url.startswith(prefix):
            return Path(self.database_url.removeprefix(prefix).split("?", 1)[0])
        return None


_LIMIT_ENV = {f"{ENV_PREFIX}{f.name.upper()}": f for f in fields(Limits)}
_OTHER_ENV = {
    f"{ENV_PREFIX}{name}"
    for name in (
        "HOME",
        "DATABASE_URL",
        "SEED",
        "LOG_LEVEL",
        "LOG_FORMAT",
        "AUTH_TOKEN",
        "NODE_CLIENTS",
        # Read by pba_tunnel.providers.settings; listed here so load_settings accepts them.
        "PROVIDER_TIMEOUT",
        "PROVIDER_RETRIES",
    )
}


def default_home() -> Path:
    """The platform's user data directory for MCP-PBA-TUNNEL."""
    return Path(platformdirs.user_data_dir("pba-tunnel", appauthor=False))


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy async URL of a SQLite file."""
    return f"sqlite+aiosqlite:///{path}"


def _parse_bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean: use 1/0, true/false, yes/no")


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    home: Path | None = None,
    database_url: str | None = None,
) -> Settings:
    """Build settings from the environment; explicit arguments (command-line options) win."""
    env = os.environ if environ is None else environ
    unknown = sorted(k for k in env if k.startswith(ENV_PREFIX) and k not in _LIMIT_ENV and k not in _OTHER_ENV)
    if unknown:
        known = ", ".join(sorted([*_LIMIT_ENV, *_OTHER_ENV]))
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)}; known settings are: {known}")

    env_home = env.get(f"{ENV_PREFIX}HOME")
    resolved_home = (home or (Path(env_home) if env_home else default_home())).expanduser()
    url = database_url or env.get(f"{ENV_PREFIX}DATABASE_URL") or sqlite_url(resolved_home / "pba-tunnel.db")

    limits = Limits()
    for env_name, limit_field in _LIMIT_ENV.items():
        raw = env.get(env_name)
        if raw is None:
            continue
        try:
            value: float | int = float(raw) if limit_field.type in (float, "float") else int(raw)
        except ValueError:
            raise ConfigError(f"{env_name}={raw!r} is not a number") from None
        if value <= 0:
            raise ConfigError(f"{env_name} must be positive, got {raw}")
        limits = replace(limits, **{limit_field.name: value})  # type: ignore[arg-type]

    seed_raw = env.get(f"{ENV_PREFIX}SEED")
    seed = True if seed_raw is None else _parse_bool(f"{ENV_PREFIX}SEED", seed_raw)
    return Settings(home=resolved_home, database_url=url, limits=limits, seed=seed)
