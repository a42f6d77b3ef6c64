"""The ``sampling`` provider: the connected MCP client's own model, asked through MCP sampling.

It needs no API key, but it only exists inside an MCP request: the server builds one per tool call around a
*sampler* that knows how to reach that request's client (``sampling/createMessage`` mid-call on handshake-era
connections, an input-required round trip on 2026-07-28 ones). This module knows nothing of MCP eras; it turns
messages and options into a sampler call and the answer into a :class:`Completion`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..errors import ProviderError
from .base import ChatMessage, Completion, CompletionOptions, Provider, ProviderConfig, Usage

NAME = "sampling"
CLIENT_MODEL = "client-model"  # what default_model says: the client picks its model (a ``model`` is only a hint)
ALTERNATIVES = (
    "use provider=openai (set OPENAI_API_KEY), provider=anthropic (set ANTHROPIC_API_KEY) "
    "or provider=ollama (run a local Ollama server)"
)
OUTSIDE_MCP = (
    "the sampling provider asks the connected MCP client's own model, so it only works through an MCP client "
    f"(the enhance_template tool); outside one, {ALTERNATIVES}"
)


@dataclass(frozen=True)
class Sampled:
    """What the client's model answered."""

    text: str
    model: str
    input_tokens: int | None = None
    output_tokens: int | None = None


Sampler = Callable[[list[ChatMessage], str | None, CompletionOptions], Awaitable[Sampled]]
"""Asks the client: ``await sampler(messages, model_hint, options)``; ProviderError when it cannot or refuses."""


class SamplingProvider:
    """A :class:`Provider` whose ``complete()`` asks the connected MCP client through ``sampler``."""

    name = NAME

    def __init__(self, sampler: Sampler) -> None:
        self._sampler = sampler

    @property
    def default_model(self) -> str:
        return CLIENT_MODEL

    async def complete(
        self, messages: list[ChatMessage], model: str | None = None, options: CompletionOptions | None = None
    ) -> Completion:
        if not messages:
            raise ProviderError("sampling needs at least one message")
        hint = None if model in (None, CLIENT_MODEL) else model
        started = time.perf_counter()
        answer = await self._sampler(messages, hint, options or CompletionOptions())
        return Completion(
            text=answer.text,
            model=answer.model,
            provider=NAME,
            usage=Usage(input_tokens=answer.input_tokens, output_tokens=answer.output_tokens),
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    async def aclose(self) -> None:
        """Nothing to release: the client's connection belongs to the server."""


def create(config: ProviderConfig) -> Provider:
    """The entry-point factory: there is no client to ask outside an MCP request, so this always refuses."""
    del config
    raise ProviderError(OUTSIDE_MCP)
