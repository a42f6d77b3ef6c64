"""Discovery through the ``pba_tunnel.providers`` entry points: built-ins and a third-party package alike."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pba_tunnel.errors import ProviderError
from pba_tunnel.providers import ChatMessage, Provider, ProviderConfig, available_providers, get_provider
from pba_tunnel.providers.registry import ProviderFactory, forget_providers, provider_names

THIRD_PARTY = '''
"""A provider package as a third party would write it: no base class, just the protocol."""

from pba_tunnel.providers import Completion


class EchoProvider:
    name = "echo"

    def __init__(self, config):
        self.config = config

    @property
    def default_model(self):
        return self.config.default_model or "echo-1"

    async def complete(self, messages, model=None, options=None):
        chosen = model or self.default_model
        return Completion(text=messages[-1].content, model=chosen, provider=self.name, latency_ms=0.0)

    async def aclose(self):
        pass
'''


@pytest.fixture
def echo_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An installed-looking distribution (module + dist-info with an entry point) on sys.path."""
    site = tmp_path / "site"
    dist_info = site / "pba_test_provider-0.1.dist-info"
    dist_info.mkdir(parents=True)
    (site / "pba_test_provider.py").write_text(THIRD_PARTY, encoding="utf-8")
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: pba-test-provider\nVersion: 0.1\n", encoding="utf-8"
    )
    (dist_info / "entry_points.txt").write_text(
        "[pba_tunnel.providers]\necho = pba_test_provider:EchoProvider\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(site))
    forget_providers()  # entry points are scanned once per process; this one was installed just now
    yield site
    sys.modules.pop("pba_test_provider", None)
    forget_providers()


def test_builtins_are_registered() -> None:
    assert {"openai", "anthropic", "ollama"} <= set(available_providers())


@pytest.mark.usefixtures("echo_package")
@pytest.mark.anyio
async def test_a_third_party_provider_is_discovered_and_used() -> None:
    assert {"echo", "openai", "anthropic", "ollama"} <= set(available_providers())
    provider = get_provider("echo", ProviderConfig(default_model="echo-7"))
    assert type(provider).__module__ == "pba_test_provider"
    answer = await provider.complete([ChatMessage(role="user", content="ping")])
    await provider.aclose()
    assert (answer.text, answer.model, answer.provider) == ("ping", "echo-7", "echo")


@pytest.mark.usefixtures("echo_package")
def test_an_unknown_name_lists_the_installed_providers() -> None:
    with pytest.raises(ProviderError) as caught:
        get_provider("nope", ProviderConfig())
    message = caught.value.message
    assert message.startswith("unknown provider 'nope'; installed providers: ")
    for name in ("anthropic", "echo", "ollama", "openai"):
        assert name in message


@pytest.mark.anyio
@pytest.mark.parametrize(("name", "key"), [("openai", "sk-x"), ("anthropic", "sk-y"), ("ollama", None)])
async def test_builtins_implement_the_provider_protocol(name: str, key: str | None) -> None:
    factories: list[ProviderFactory] = [available_providers()[name]]  # also checked statically by mypy
    provider = factories[0](ProviderConfig(api_key=key))
    try:
        assert isinstance(provider, Provider)
        assert provider.name == name
        assert provider.default_model
    finally:
        await provider.aclose()


def test_entry_points_are_scanned_and_loaded_once(echo_package: Path) -> None:
    first = get_provider("echo", ProviderConfig())
    # Uninstall the package and drop its module: a rescan would not find it, a reload would fail.
    shutil.rmtree(echo_package / "pba_test_provider-0.1.dist-info")
    (echo_package / "pba_test_provider.py").unlink()
    sys.modules.pop("pba_test_provider", None)
    second = get_provider("echo", ProviderConfig())
    assert type(second) is type(first)
    assert available_providers()["echo"] is type(first)
    assert "echo" in provider_names()

    forget_providers()
    with pytest.raises(ProviderError) as caught:
        get_provider("echo", ProviderConfig())
    assert caught.value.code == "provider_error"
    assert "echo" not in provider_names()
