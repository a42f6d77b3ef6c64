"""Anthropic's Messages API."""

from __future__ import annotations

from typing import Any, ClassVar

from ..errors import ProviderNotConfiguredError
from .base import ChatMessage, CompletionOptions, ProviderConfig, Usage
from .http import HttpProvider

API_VERSION = "2023-06-01"


class AnthropicProvider(HttpProvider):
    """``POST {base}/v1/messages`` with ``x-api-key``; system messages travel in the top-level ``system`` field."""

    name = "anthropic"
    default_base_url: ClassVar[str] = "https://api.anthropic.com"
    fallback_model: ClassVar[str] = "claude-sonnet-4-5"
    path: ClassVar[str] = "/v1/messages"
    key_hint: ClassVar[str] = "check ANTHROPIC_API_KEY (or api_key under [anthropic] in providers.toml)"
    configure_hint: ClassVar[str] = (
        "the anthropic provider is not configured: set ANTHROPIC_API_KEY "
        "(and ANTHROPIC_BASE_URL for a proxy or gateway)"
    )

    def __init__(self, config: ProviderConfig) -> None:
        if not config.api_key:
            raise ProviderNotConfiguredError(self.configure_hint, provider=self.name)
        super().__init__(config)

    def auth_headers(self) -> dict[str, str]:
        return {"x-api-key": self.config.api_key or "", "anthropic-version": API_VERSION}

    def build_body(self, messages: list[ChatMessage], model: str, options: CompletionOptions) -> dict[str, Any]:
        # The Messages API has no "system" role: system text is a separate field, the rest alternate user/assistant.
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        body: dict[str, Any] = {
            "model": model,
            "max_tokens": options.max_tokens,
            "messages": [{"role": m.role, "content": m.content} for m in messages if m.role != "system"],
        }
        if system:
            body["system"] = system
        optional = {"temperature": options.temperature, "top_p": options.top_p, "stop_sequences": options.stop}
        body.update({key: value for key, value in optional.items() if value is not None})
        return body

    def parse_body(self, data: Any, model: str) -> tuple[str, str, Usage]:
        blocks = data["content"]
        if not isinstance(blocks, list):
            raise TypeError("content is not a list of blocks")
        # Thinking or tool-use blocks may precede the answer; the text blocks together are the answer.
        texts = [block["text"] for block in blocks if block.get("type") == "text"]
        if not texts or not all(isinstance(text, str) for text in texts):
            raise ValueError("no text block in content")
        usage = data.get("usage") or {}
        return (
            "".join(texts),
            str(data.get("model") or model),
            Usage(input_tokens=usage.get("input_tokens"), output_tokens=usage.get("output_tokens")),
        )
