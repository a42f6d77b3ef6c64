"""Provider settings from the environment and an optional ``providers.toml``.

Precedence, lowest to highest:

1. the provider's built-in defaults (base URL, model; ``ProviderConfig``'s timeout and retries);
2. the provider's table in ``$PBA_TUNNEL_HOME/providers.toml`` (or the file passed in), e.g.::

       [openai]
       default_model = "gpt-4o-mini"
       timeout_seconds = 30
       max_retries = 2
       base_url = "http://127.0.0.1:8000/v1"

   Keys are the fields of ``ProviderConfig``; any other key is an error naming the file and the key. An
   ``api_key`` may live here, but an environment variable is the better home for a secret;
3. environment variables, which always win: the provider's own (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``,
   ``OPENAI_MODEL``; ``ANTHROPIC_API_KEY``, ``ANTHROPIC_BASE_URL``, ``ANTHROPIC_MODEL``; ``OLLAMA_HOST``,
   ``OLLAMA_MODEL``) and, for every provider, ``PBA_TUNNEL_PROVIDER_TIMEOUT`` (seconds, the total time of one
   request), ``PBA_TUNNEL_PROVIDER_RETRIES`` and ``PBA_TUNNEL_PROVIDER_MAX_RESPONSE_BYTES``.

Third-party providers read their table in the file and the ``PBA_TUNNEL_PROVIDER_*`` variables; they get no
environment names of their own, so an unrelated ``ECHO_API_KEY`` can never leak into a provider called ``echo``.
Empty variables count as unset, as a shell's ``export OPENAI_BASE_URL=`` usually means "not set".
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import SettingsConfigDict

from ..config import EnvironmentSettings, Settings, env_name, load_settings, settings_from
from ..errors import ConfigError
from .base import ProviderConfig

CONFIG_FILE_NAME = "providers.toml"
TIMEOUT_ENV = env_name("provider_timeout")
RETRIES_ENV = env_name("provider_retries")
MAX_RESPONSE_ENV = env_name("provider_max_response_bytes")


class ProviderEnvironment(EnvironmentSettings):
    """The built-in providers' own environment variables (``OPENAI_API_KEY`` …); empty ones count as unset."""

    model_config = SettingsConfigDict(env_ignore_empty=True, frozen=True, extra="forbid")

    openai_api_key: str | None = Field(default=None, repr=False)
    openai_base_url: str | None = None
    openai_model: str | None = None
    anthropic_api_key: str | None = Field(default=None, repr=False)
    anthropic_base_url: str | None = None
    anthropic_model: str | None = None
    ollama_host: str | None = None
    ollama_model: str | None = None


# Each built-in provider's ProviderEnvironment fields, by ProviderConfig field.
BUILTIN_ENV: dict[str, dict[str, str]] = {
    "openai": {"api_key": "openai_api_key", "base_url": "openai_base_url", "default_model": "openai_model"},
    "anthropic": {
        "api_key": "anthropic_api_key",
        "base_url": "anthropic_base_url",
        "default_model": "anthropic_model",
    },
    "ollama": {"base_url": "ollama_host", "default_model": "ollama_model"},
}


def provider_environment(environ: Mapping[str, str] | None = None) -> ProviderEnvironment:
    """The providers' variables from the process environment (or from ``environ`` alone)."""
    return settings_from(ProviderEnvironment, environ)


def default_config_file(settings: Settings | None = None) -> Path:
    """``$PBA_TUNNEL_HOME/providers.toml`` (the platform data directory when PBA_TUNNEL_HOME is unset)."""
    return (settings or load_settings()).home / CONFIG_FILE_NAME


def provider_config(
    name: str, environ: Mapping[str, str] | None = None, config_file: Path | None = None
) -> ProviderConfig:
    """The settings of provider ``name``: built-in defaults < ``providers.toml`` < environment."""
    settings = settings_from(Settings, environ)
    # The default file is optional; a file named explicitly must exist, since a typo there would be silent.
    path = config_file if config_file is not None else default_config_file(settings)
    values = _file_values(name, path, required=config_file is not None)
    environment = provider_environment(environ)
    for field_name, variable in BUILTIN_ENV.get(name, {}).items():
        value = getattr(environment, variable)
        if value is not None:
            values[field_name] = value
    if settings.provider_timeout is not None:
        values["timeout_seconds"] = settings.provider_timeout
    if settings.provider_retries is not None:
        values["max_retries"] = settings.provider_retries
    if settings.provider_max_response_bytes is not None:
        values["max_response_bytes"] = settings.provider_max_response_bytes
    try:
        return ProviderConfig(**values)
    except ValidationError as exc:
        # Name the setting, never its value: the value might be a key.
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        where = f"from {path} or the environment"
        raise ConfigError(f"invalid settings for provider {name!r} ({where}): {problems}") from None


def _file_values(name: str, path: Path, *, required: bool) -> dict[str, Any]:
    """The ``[name]`` table of ``path``, checked for unknown keys; empty when the file or table is absent."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if required:
            raise ConfigError(f"provider config file {path} does not exist") from None
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read provider config file {path}: {exc.strerror}") from None
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    for section, table in document.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: {section!r} must be a table such as [{section}] naming a provider")
    # Check every table, not just the one asked for, so a typo under [anthropic] surfaces on first use.
    known = set(ProviderConfig.model_fields)
    for section, table in document.items():
        unknown = sorted(set(table) - known)
        if unknown:
            raise ConfigError(
                f"{path}: unknown key(s) {', '.join(f'{section}.{key}' for key in unknown)}; "
                f"known keys are: {', '.join(sorted(known))}"
            )
    return dict(document.get(name, {}))
