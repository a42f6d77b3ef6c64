"""The provider interface: ``await provider.complete(messages, model, options)`` → text, usage, latency."""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant"]


class ChatMessage(BaseModel):
    """One message sent to a model."""

    model_config = ConfigDict(frozen=True)

    role: Role
    content: str


class CompletionOptions(BaseModel):
    """Generation options; providers map them to their own wire names and ignore what they lack."""

    model_config = ConfigDict(extra="forbid")

    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int = Field(default=2048, gt=0)
    top_p: float | None = Field(default=None, ge=0, le=1)
    stop: list[str] | None = None


class Usage(BaseModel):
    """Tokens spent, when the provider reports them."""

    input_tokens: int | None = None
    output_tokens: int | None = None


class Completion(BaseModel):
    """A model's answer."""

    text: str
    model: str
    provider: str
    usage: Usage = Field(default_factory=Usage)
    latency_ms: float


class ProviderConfig(BaseModel):
    """Settings every provider understands (from the environment and the config file)."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = None
    api_key: str | None = Field(default=None, repr=False)  # never printed, logged or returned
    default_model: str | None = None
    timeout_seconds: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=3, ge=0, le=10)
    backoff_seconds: float = Field(default=0.5, ge=0)
    max_backoff_seconds: float = Field(default=20.0, ge=0)
    # A template is at most 100 KB; an answer far beyond that is a broken or hostile server, not a template.
    max_response_bytes: int = Field(default=1024 * 1024, gt=0)


@runtime_checkable
class Provider(Protocol):
    """What every provider implements."""

    name: str

    @property
    def default_model(self) -> str:
        """The model used when none is asked for."""

    async def complete(
        self, messages: list[ChatMessage], model: str | None = None, options: CompletionOptions | None = None
    ) -> Completion:
        """Send ``messages`` and return the answer; ProviderError with a fix-it message on failure."""

    async def aclose(self) -> None:
        """Release connections (one pooled HTTP client per provider)."""
