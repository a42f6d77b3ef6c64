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
   ``OLLAMA_MODEL``) and, for every provider, ``PBA_TUNNEL_PROVIDER_TIMEOUT`` (seconds) and
   ``PBA_TUNNEL_PROVIDER_RETRIES``.

Third-party providers read their table in the file and the two ``PBA_TUNNEL_PROVIDER_*`` variables; they get no
environment names of their own, so an unrelated ``ECHO_API_KEY`` can never leak into a provider called ``echo``.
Empty variables count as unset, as a shell's ``export OPENAI_BASE_URL=`` usually means "not set".
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..config import ENV_PREFIX, default_home
from ..errors import ConfigError
from .base import ProviderConfig

CONFIG_FILE_NAME = "providers.toml"
TIMEOUT_ENV = f"{ENV_PREFIX}PROVIDER_TIMEOUT"
RETRIES_ENV = f"{ENV_PREFIX}PROVIDER_RETRIES"

# Each built-in provider's environment variables, by ProviderConfig field.
BUILTIN_ENV: dict[str, dict[str, str]] = {
    "openai": {"api_key": "OPENAI_API_KEY", "base_url": "OPENAI_BASE_URL", "default_model": "OPENAI_MODEL"},
    "anthropic": {
        "api_key": "ANTHROPIC_API_KEY",
        "base_url": "ANTHROPIC_BASE_URL",
        "default_model": "ANTHROPIC_MODEL",
    },
    "ollama": {"base_url": "OLLAMA_HOST", "default_model": "OLLAMA_MODEL"},
}


def default_config_file(environ: Mapping[str, str] | None = None) -> Path:
    """``$PBA_TUNNEL_HOME/providers.toml`` (the platform data directory when PBA_TUNNEL_HOME is unset)."""
    env = os.environ if environ is None else environ
    home = env.get(f"{ENV_PREFIX}HOME")
    return (Path(home) if home else default_home()).expanduser() / CONFIG_FILE_NAME


def provider_config(
    name: str, environ: Mapping[str, str] | None = None, config_file: Path | None = None
) -> ProviderConfig:
    """The settings of provider ``name``: built-in defaults < ``providers.toml`` < environment."""
    env = os.environ if environ is None else environ
    # The default file is optional; a file named explicitly must exist, since a typo there would be silent.
    path = config_file if config_file is not None else default_config_file(env)
    values = _file_values(name, path, required=config_file is not None)
    for field_name, env_name in BUILTIN_ENV.get(name, {}).items():
        if env.get(env_name):
            values[field_name] = env[env_name]
    if env.get(TIMEOUT_ENV):
        values["timeout_seconds"] = _number(TIMEOUT_ENV, env[TIMEOUT_ENV], float)
    if env.get(RETRIES_ENV):
        values["max_retries"] = _number(RETRIES_ENV, env[RETRIES_ENV], int)
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


def _number(env_name: str, raw: str, kind: type[int] | type[float]) -> int | float:
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{env_name}={raw!r} is not a{'n integer' if kind is int else ' number'}") from None
