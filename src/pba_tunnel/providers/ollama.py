"""Ollama's chat API (a local server, no key)."""

from __future__ import annotations

from typing import Any, ClassVar

from .base import ChatMessage, CompletionOptions, Usage
from .http import HttpProvider


class OllamaProvider(HttpProvider):
    """``POST {host}/api/chat`` with ``stream: false``; generation settings go in ``options``."""

    name = "ollama"
    default_base_url: ClassVar[str] = "http://127.0.0.1:11434"
    fallback_model: ClassVar[str] = "llama3.2"
    path: ClassVar[str] = "/api/chat"
    # Ollama has no keys; a 401/403 comes from a proxy in front of it.
    key_hint: ClassVar[str] = "Ollama needs no key, so check OLLAMA_HOST and any proxy in front of it"
    configure_hint: ClassVar[str] = "set OLLAMA_HOST (default http://127.0.0.1:11434) and start `ollama serve`"
    unreachable_hint: ClassVar[str] = "is `ollama serve` running? " + configure_hint

    def build_body(self, messages: list[ChatMessage], model: str, options: CompletionOptions) -> dict[str, Any]:
        settings: dict[str, Any] = {"num_predict": options.max_tokens}
        optional = {"temperature": options.temperature, "top_p": options.top_p, "stop": options.stop}
        settings.update({key: value for key, value in optional.items() if value is not None})
        return {
            "model": model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": False,  # one JSON answer rather than a line per token
            "options": settings,
        }

    def parse_body(self, data: Any, model: str) -> tuple[str, str, Usage]:
        text = data["message"]["content"]
        if not isinstance(text, str):
            raise TypeError("message.content is not text")
        return (
            text,
            str(data.get("model") or model),
            Usage(input_tokens=data.get("prompt_eval_count"), output_tokens=data.get("eval_count")),
        )
