"""Provider settings: built-in defaults < providers.toml < environment; bad files and values are errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pba_tunnel.config import load_settings
from pba_tunnel.errors import ConfigError
from pba_tunnel.providers.settings import provider_config, provider_environment


def write(home: Path, text: str) -> Path:
    path = home / "providers.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file_or_environment(tmp_path: Path) -> None:
    config = provider_config("openai", {"PBA_TUNNEL_HOME": str(tmp_path)})
    assert (config.api_key, config.base_url, config.default_model) == (None, None, None)
    assert (config.timeout_seconds, config.max_retries) == (60.0, 3)


def test_environment_variables_of_each_builtin(tmp_path: Path) -> None:
    env = {
        "PBA_TUNNEL_HOME": str(tmp_path),
        "OPENAI_API_KEY": "sk-o",
        "OPENAI_BASE_URL": "http://127.0.0.1:8000/v1",
        "OPENAI_MODEL": "qwen",
        "ANTHROPIC_API_KEY": "sk-a",
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:9000",
        "ANTHROPIC_MODEL": "claude-x",
        "OLLAMA_HOST": "http://127.0.0.1:11500",
        "OLLAMA_MODEL": "phi4",
        "PBA_TUNNEL_PROVIDER_TIMEOUT": "7.5",
        "PBA_TUNNEL_PROVIDER_RETRIES": "0",
    }
    openai, anthropic, ollama = (provider_config(name, env) for name in ("openai", "anthropic", "ollama"))
    assert (openai.api_key, openai.base_url, openai.default_model) == ("sk-o", "http://127.0.0.1:8000/v1", "qwen")
    assert (anthropic.api_key, anthropic.base_url, anthropic.default_model) == (
        "sk-a",
        "http://127.0.0.1:9000",
        "claude-x",
    )
    assert (ollama.api_key, ollama.base_url, ollama.default_model) == (None, "http://127.0.0.1:11500", "phi4")
    assert {(c.timeout_seconds, c.max_retries) for c in (openai, anthropic, ollama)} == {(7.5, 0)}


def test_file_sets_values_and_the_environment_wins(tmp_path: Path) -> None:
    write(
        tmp_path,
        '[openai]\ndefault_model = "from-file"\nbase_url = "http://file/v1"\napi_key = "sk-file"\n'
        'timeout_seconds = 30\nmax_retries = 5\nbackoff_seconds = 0.1\n\n[ollama]\ndefault_model = "mistral"\n',
    )
    env = {"PBA_TUNNEL_HOME": str(tmp_path), "OPENAI_MODEL": "from-env", "PBA_TUNNEL_PROVIDER_RETRIES": "1"}
    config = provider_config("openai", env)
    assert config.default_model == "from-env"
    assert config.max_retries == 1
    assert (config.base_url, config.api_key, config.timeout_seconds, config.backoff_seconds) == (
        "http://file/v1",
        "sk-file",
        30.0,
        0.1,
    )
    assert provider_config("ollama", env).default_model == "mistral"


def test_empty_environment_variables_count_as_unset(tmp_path: Path) -> None:
    write(tmp_path, '[openai]\nbase_url = "http://file/v1"\n')
    config = provider_config("openai", {"PBA_TUNNEL_HOME": str(tmp_path), "OPENAI_BASE_URL": ""})
    assert config.base_url == "http://file/v1"


def test_third_party_providers_read_their_table_but_no_builtin_variables(tmp_path: Path) -> None:
    path = write(tmp_path, '[echo]\ndefault_model = "echo-2"\n')
    config = provider_config("echo", {"OPENAI_API_KEY": "sk-o", "ECHO_API_KEY": "x"}, config_file=path)
    assert (config.default_model, config.api_key) == ("echo-2", None)


def test_unknown_key_names_the_file_and_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, "[anthropic]\ntimeout = 5\n")
    with pytest.raises(ConfigError) as caught:
        provider_config("openai", {}, config_file=path)  # a typo in any table surfaces
    assert str(path) in caught.value.message
    assert "anthropic.timeout" in caught.value.message
    assert "timeout_seconds" in caught.value.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not toml = = 1", "is not valid TOML"),
        ('openai = "x"\n', "'openai' must be a table such as [openai]"),
        ("[openai]\ntimeout_seconds = -1\n", "timeout_seconds: Input should be greater than 0"),
    ],
)
def test_bad_files_are_config_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        provider_config("openai", {}, config_file=path)
    assert message in caught.value.message


def test_invalid_values_never_echo_the_value(tmp_path: Path) -> None:
    path = write(tmp_path, "[openai]\napi_key = 12345678\n")
    with pytest.raises(ConfigError) as caught:
        provider_config("openai", {}, config_file=path)
    assert "api_key" in caught.value.message
    assert "12345678" not in caught.value.message


def test_a_named_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        provider_config("openai", {}, config_file=tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PBA_TUNNEL_PROVIDER_TIMEOUT": "soon"}, "PBA_TUNNEL_PROVIDER_TIMEOUT='soon' is not a number"),
        ({"PBA_TUNNEL_PROVIDER_RETRIES": "1.5"}, "PBA_TUNNEL_PROVIDER_RETRIES='1.5' is not an integer"),
        ({"PBA_TUNNEL_PROVIDER_RETRIES": "99"}, "max_retries: Input should be less than or equal to 10"),
    ],
)
def test_bad_environment_values_are_config_errors(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        provider_config("openai", {"PBA_TUNNEL_HOME": str(tmp_path), **env})
    assert message in caught.value.message


def test_the_provider_variables_are_known_settings(tmp_path: Path) -> None:
    load_settings(
        {"PBA_TUNNEL_HOME": str(tmp_path), "PBA_TUNNEL_PROVIDER_TIMEOUT": "5", "PBA_TUNNEL_PROVIDER_RETRIES": "1"}
    )


def test_provider_variables_come_from_the_process_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PBA_TUNNEL_HOME", str(tmp_path))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-process")
    monkeypatch.setenv("OPENAI_MODEL", "")
    monkeypatch.setenv("PBA_TUNNEL_PROVIDER_TIMEOUT", "3")
    config = provider_config("openai")
    assert (config.api_key, config.default_model, config.timeout_seconds) == ("sk-process", None, 3.0)
    assert "sk-process" not in repr(provider_environment())
    assert provider_config("openai", {"PBA_TUNNEL_HOME": str(tmp_path)}).api_key is None
