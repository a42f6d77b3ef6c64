"""Finding providers by name through the ``pba_tunnel.providers`` entry-point group.

The group is scanned once per process and each entry point is loaded (imported) on first use only, then
kept: a lookup never rescans the installed packages or re-imports a provider.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points

from ..errors import ProviderError
from .base import Provider, ProviderConfig

GROUP = "pba_tunnel.providers"
ProviderFactory = Callable[[ProviderConfig], Provider]


@functools.cache
def _registered() -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for entry in entry_points(group=GROUP):
        found.setdefault(entry.name, entry)  # the first distribution to claim a name keeps it
    return found


@functools.cache
def _factory(name: str) -> ProviderFactory:
    factory: ProviderFactory = _registered()[name].load()
    return factory


def provider_names() -> list[str]:
    """The names of every registered provider, sorted (nothing is imported)."""
    return sorted(_registered())


def available_providers() -> dict[str, ProviderFactory]:
    """Every registered provider factory by name (built-in and third-party alike); imports them all."""
    return {name: _factory(name) for name in _registered()}


def get_provider(name: str, config: ProviderConfig) -> Provider:
    """An instance of the provider called ``name``; ProviderError listing the known names otherwise."""
    if name not in _registered():
        known = ", ".join(provider_names()) or "none"
        raise ProviderError(f"unknown provider {name!r}; installed providers: {known}")
    return _factory(name)(config)


def forget_providers() -> None:
    """Scan the entry points again on the next lookup (after installing a provider into a running process)."""
    _factory.cache_clear()
    _registered.cache_clear()
