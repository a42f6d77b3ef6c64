"""Finding providers by name through the ``pba_tunnel.providers`` entry-point group."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

from ..errors import ProviderError
from .base import Provider, ProviderConfig

GROUP = "pba_tunnel.providers"
ProviderFactory = Callable[[ProviderConfig], Provider]


def available_providers() -> dict[str, ProviderFactory]:
    """Every registered provider factory by name (built-in and third-party alike)."""
    found: dict[str, ProviderFactory] = {}
    for entry in entry_points(group=GROUP):
        found.setdefault(entry.name, entry.load())
    return found


def get_provider(name: str, config: ProviderConfig) -> Provider:
    """An instance of the provider called ``name``; ProviderError listing the known names otherwise."""
    factories = available_providers()
    factory = factories.get(name)
    if factory is None:
        known = ", ".join(sorted(factories)) or "none"
        raise ProviderError(f"unknown provider {name!r}; installed providers: {known}")
    return factory(config)
