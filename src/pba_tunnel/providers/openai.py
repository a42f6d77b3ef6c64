"""OpenAI chat completions, and every server that speaks the same API (OpenRouter, vLLM, LM Studio, llama.cpp)."""

from __future__ import annotations

from typing import Any, ClassVar

from ..errors import ProviderNotConfiguredError
from .base import ChatMessage, CompletionOptions, ProviderConfig, Usage
from .http import HttpProvider


class OpenAIProvider(HttpProvider):
    """``POST {base}/chat/completions`` with ``Authorization: Bearer``; the key is optional on a custom base URL."""

    name = "openai"
    default_base_url: ClassVar[str] = "https://api.openai.com/v1"
    fallback_model: ClassVar[str] = "gpt-4o-mini"
    path: ClassVar[str] = "/chat/completions"
    key_hint: ClassVar[str] = "check OPENAI_API_KEY (or api_key under [openai] in providers.toml)"
    configure_hint: ClassVar[str] = (
        "the openai provider is not configured: set OPENAI_API_KEY "
        "(or OPENAI_BASE_URL for a local server that needs no key)"
    )

    def __init__(self, config: ProviderConfig) -> None:
        # OpenAI itself always needs a key; a local compatible server (base URL given) often does not.
        if not config.api_key and not config.base_url:
            raise ProviderNotConfiguredError(self.configure_hint, provider=self.name)
        super().__init__(config)

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}

    def build_body(self, messages: list[ChatMessage], model: str, options: CompletionOptions) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": options.max_tokens,
        }
        # Only what was asked for: compatible servers differ in which optional fields they accept.
        optional = {"temperature": options.temperature, "top_p": options.top_p, "stop": options.stop}
        body.update({key: value for key, value in optional.items() if value is not None})
        return body

    def parse_body(self, data: Any, model: str) -> tuple[str, str, Usage]:
        text = data["choices"][0]["message"]["content"]
        if not isinstance(text, str):
            raise TypeError("choices[0].message.content is not text")
        usage = data.get("usage") or {}
        return (
            text,
            str(data.get("model") or model),
            Usage(input_tokens=usage.get("prompt_tokens"), output_tokens=usage.get("completion_tokens")),
        )
