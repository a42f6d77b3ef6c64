"""What the HTTP providers share: one pooled client each, a retry loop, and error mapping that hides the key.

Each request is bounded in total time (``timeout_seconds``, for the whole exchange, not per read) and in size
(``max_response_bytes``, checked while the body streams in, so no more than the limit plus one chunk is held).

Retry policy: timeouts, connection failures, 429 and 5xx are retried up to ``max_retries`` times with capped
exponential backoff and jitter; a 429's ``Retry-After`` (seconds or an HTTP-date) replaces the computed delay.
Any other 4xx is the caller's mistake and fails at once. Every message that leaves this module passes through
``redact`` so an API key echoed back by a server (or pasted into a base URL) never reaches logs or users.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import anyio
import httpx2
import structlog

from ..errors import ProviderError, ProviderResponseTooLargeError
from .base import ChatMessage, Completion, CompletionOptions, ProviderConfig, Usage
from .settings import MAX_RESPONSE_ENV, TIMEOUT_ENV

log = structlog.get_logger(__name__)

REDACTED = "***"
_MAX_DETAIL = 300  # characters of a server's error body worth showing a person


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` replaced; a no-op when there is no secret."""
    if not secret:
        return text
    return text.replace(secret, REDACTED)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date); None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT by definition
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_delay(attempt: int, config: ProviderConfig) -> float:
    """Delay before retry number ``attempt`` (0-based): exponential, capped, with "equal jitter".

    Half the capped delay is fixed so retries never stampede back at once; the other half is random so many
    clients that failed together spread out.
    """
    capped: float = min(config.max_backoff_seconds, config.backoff_seconds * 2.0**attempt)
    return capped / 2 + random.uniform(0, capped / 2)


class _Retryable(Exception):
    """Internal: this attempt failed in a way worth retrying; ``message`` is already redacted."""

    def __init__(self, message: str, delay: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.delay = delay


class HttpProvider:
    """Base of the HTTP providers: subclasses build the request body and read the answer."""

    name: str  # an instance attribute to the Provider protocol, though each class sets it once
    default_base_url: ClassVar[str]
    fallback_model: ClassVar[str]
    # How a person fixes a rejected key or a missing configuration; shown verbatim in errors.
    key_hint: ClassVar[str]
    configure_hint: ClassVar[str]
    path: ClassVar[str]  # the endpoint, relative to the base URL
    unreachable_hint: ClassVar[str] = ""  # appended when the server cannot be reached at all

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self.base_url = (config.base_url or self.default_base_url).rstrip("/")
        self._secret = config.api_key
        # One pooled client per provider instance: connections are reused across completions and closed in aclose.
        self._client = httpx2.AsyncClient(
            base_url=self.base_url,
            headers=self.auth_headers(),
            timeout=httpx2.Timeout(config.timeout_seconds),
        )

    @property
    def default_model(self) -> str:
        """The configured default model, else the provider's own choice."""
        return self.config.default_model or self.fallback_model

    def auth_headers(self) -> dict[str, str]:
        """Headers sent with every request (the key, the API version)."""
        return {}

    def build_body(self, messages: list[ChatMessage], model: str, options: CompletionOptions) -> dict[str, Any]:
        """The JSON request body in the provider's wire format."""
        raise NotImplementedError

    def parse_body(self, data: Any, model: str) -> tuple[str, str, Usage]:
        """``(text, model, usage)`` from a decoded response; KeyError/TypeError/ValueError mean malformed."""
        raise NotImplementedError

    async def complete(
        self, messages: list[ChatMessage], model: str | None = None, options: CompletionOptions | None = None
    ) -> Completion:
        """Send ``messages`` and return the answer; ProviderError with a fix-it message on failure."""
        if not messages:
            raise ProviderError(f"{self.name}: nothing to send (no messages)")
        if self._client.is_closed:  # httpx would raise a bare RuntimeError; say what happened instead
            raise ProviderError(f"{self.name} provider is closed (the server is shutting down)")
        chosen = model or self.default_model
        body = self.build_body(messages, chosen, options or CompletionOptions())
        started = time.perf_counter()
        data = await self._post(self.path, body)
        try:
            text, answered_model, usage = self.parse_body(data, chosen)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise self._error(f"{self.name} returned a malformed response ({type(exc).__name__}: {exc})") from None
        latency_ms = (time.perf_counter() - started) * 1000
        log.debug("provider completion", provider=self.name, model=answered_model, latency_ms=round(latency_ms, 1))
        return Completion(text=text, model=answered_model, provider=self.name, usage=usage, latency_ms=latency_ms)

    async def aclose(self) -> None:
        """Close the pooled client (and its connections)."""
        await self._client.aclose()

    def _error(self, message: str) -> ProviderError:
        return ProviderError(redact(message, self._secret))

    async def _post(self, path: str, body: Mapping[str, Any]) -> Any:
        """POST ``body`` and return the decoded JSON, retrying what is worth retrying."""
        attempts = self.config.max_retries + 1
        last = ""
        for attempt in range(attempts):
            try:
                return await self._attempt(path, body)
            except _Retryable as failure:
                last = redact(failure.message, self._secret)
                if attempt + 1 >= attempts:
                    break
                delay = failure.delay if failure.delay is not None else backoff_delay(attempt, self.config)
                if delay > self.config.max_backoff_seconds:
                    # Waiting longer than the configured cap would stall the caller; say when to come back instead.
                    cap = f"max_backoff_seconds ({self.config.max_backoff_seconds:g} s)"
                    raise self._error(f"{last}; the server asks to wait {delay:.0f} s, longer than {cap}") from None
                log.info(
                    "provider retry", provider=self.name, attempt=attempt + 1, reason=last, delay_s=round(delay, 3)
                )
                await anyio.sleep(delay)
        raise self._error(f"{last} (gave up after {attempts} attempt{'s' if attempts != 1 else ''})")

    async def _attempt(self, path: str, body: Mapping[str, Any]) -> Any:
        timeout = self.config.timeout_seconds
        try:
            # httpx's timeout bounds each read; this bounds the whole exchange, so a trickling server ends too.
            with anyio.fail_after(timeout):
                async with self._client.stream("POST", path, json=body) as response:
                    content = await self._read_capped(response)
        except (TimeoutError, httpx2.TimeoutException):
            raise _Retryable(
                f"{self.name} timed out after {timeout:g} s at {self._where()}; "
                f"raise {TIMEOUT_ENV} or timeout_seconds in providers.toml"
            ) from None
        except httpx2.TransportError as exc:
            # Connection refused/reset: often a server restarting, so worth the same retries as a 5xx.
            hint = f"; {self.unreachable_hint}" if self.unreachable_hint else ""
            raise _Retryable(
                redact(f"{self.name} could not reach {self._where()} ({type(exc).__name__}: {exc}){hint}", self._secret)
            ) from None
        status = response.status_code
        if status == 429:
            raise _Retryable(
                f"{self.name} rate-limited the request (HTTP 429){self._detail(content)}",
                retry_after_seconds(response.headers.get("retry-after")),
            )
        if status >= 500:
            raise _Retryable(f"{self.name} server error (HTTP {status}){self._detail(content)}")
        if status in (401, 403):
            raise self._error(f"{self.name} refused the request (HTTP {status}): {self.key_hint}")
        if status >= 400:
            raise self._error(f"{self.name} rejected the request (HTTP {status}){self._detail(content)}")
        try:
            return json.loads(content)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the JSON decoder's stack
            raise self._error(f"{self.name} returned a malformed response (not JSON)") from None

    async def _read_capped(self, response: httpx2.Response) -> bytes:
        """The body, read chunk by chunk and refused as soon as it passes ``max_response_bytes``."""
        limit = self.config.max_response_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise self._too_large(f"declares {declared} bytes")
        content = bytearray()
        async for chunk in response.aiter_bytes():
            content += chunk
            if len(content) > limit:
                raise self._too_large("sent more")
        return bytes(content)

    def _too_large(self, what: str) -> ProviderResponseTooLargeError:
        limit = self.config.max_response_bytes
        message = (
            f"{self.name} response from {self._where()} {what} than the {limit} byte limit; raise "
            f"{MAX_RESPONSE_ENV} or max_response_bytes in providers.toml if the server is trusted"
        )
        return ProviderResponseTooLargeError(redact(message, self._secret), provider=self.name, limit=limit)

    def _where(self) -> str:
        return redact(self.base_url, self._secret)

    def _detail(self, content: bytes) -> str:
        """The server's own error message, short and redacted, when it sent one."""
        try:
            data = json.loads(content)
        except (ValueError, RecursionError):
            text = content.decode("utf-8", errors="replace").strip()
        else:
            error = data.get("error", data) if isinstance(data, dict) else data
            if isinstance(error, dict):
                error = error.get("message", error)
            text = str(error)
        text = redact(text, self._secret)[:_MAX_DETAIL]
        return f": {text}" if text else ""
