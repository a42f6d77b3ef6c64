"""LLM providers: one small interface, discovered through the ``pba_tunnel.providers`` entry-point group.

The built-in providers register through the same group a third-party package uses (see pyproject.toml),
so ``get_provider("openai")`` and ``get_provider("my-company-llm")`` take the same path.
"""

from .base import ChatMessage, Completion, CompletionOptions, Provider, ProviderConfig, Usage
from .registry import available_providers, get_provider

__all__ = [
    "ChatMessage",
    "Completion",
    "CompletionOptions",
    "Provider",
    "ProviderConfig",
    "Usage",
    "available_providers",
    "get_provider",
]
