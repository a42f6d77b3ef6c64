"""The per-render budget: deadline, call depth and size bounds checked from inside the sandbox."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from ..config import Limits
from ..errors import OutputTooLargeError, RangeTooLargeError, RecursionLimitError, RenderTimeoutError

_DIGITS = re.compile(r"\d+")
# Only the digits inside conversion specs matter: "%-999999d" and "{:>999999}" allocate, "Order 12345678" does not.
_PERCENT_SPEC = re.compile(r"%[^a-zA-Z%]*[a-zA-Z%]")
_BRACE_SPEC = re.compile(r"\{[^{}]*?:([^{}]*)\}")
_CHECK_EVERY = 256  # loop iterations between deadline checks: cheap, yet a runaway loop stops within ~1 ms


@dataclass
class Budget:
    """What one render may still spend; lives in a context variable while the render runs."""

    limits: Limits
    deadline: float = field(init=False)
    depth: int = 0

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.limits.max_render_seconds

    def check_time(self) -> None:
        """Stop the render once it has run longer than allowed."""
        if time.monotonic() > self.deadline:
            raise RenderTimeoutError(
                f"rendering took longer than {self.limits.max_render_seconds:g} s "
                "(set PBA_TUNNEL_MAX_RENDER_SECONDS to allow more)"
            )

    def check_length(self, length: int) -> None:
        """Refuse a value that would be longer than the whole output may be."""
        if length > self.limits.max_output_bytes:
            raise OutputTooLargeError(
                f"a value of {length:,} characters exceeds the output limit of "
                f"{self.limits.max_output_bytes:,} bytes (PBA_TUNNEL_MAX_OUTPUT_BYTES)"
            )

    def check_count(self, count: int, what: str) -> None:
        """Refuse a count (range size, repetition, width) beyond the sandbox's bound."""
        if count > self.limits.max_range and count > self.limits.max_output_bytes:
            raise RangeTooLargeError(f"{what} of {count:,} is larger than the sandbox allows")

    def check_format_string(self, text: str, *, style: str = "%") -> None:
        """Refuse format strings whose widths or precisions would allocate beyond the output limit."""
        specs = _PERCENT_SPEC.findall(text) if style == "%" else _BRACE_SPEC.findall(text)
        for digits in (d for spec in specs for d in _DIGITS.findall(spec)):
            if len(digits) > 7 or int(digits) > self.limits.max_output_bytes:
                raise RangeTooLargeError(f"the format width {digits} is larger than the sandbox allows")

    def enter_call(self) -> None:
        """Count one more nested call (macros, loop recursion, callables)."""
        self.depth += 1
        if self.depth > self.limits.max_recursion_depth:
            raise RecursionLimitError(
                f"calls nested deeper than {self.limits.max_recursion_depth} levels "
                "(PBA_TUNNEL_MAX_RECURSION_DEPTH); look for a macro that calls itself"
            )

    def guard_iteration(self, iterable: Iterable[object]) -> Iterator[object]:
        """Yield from ``iterable`` while checking the deadline every few items."""
        for count, item in enumerate(iterable):
            if count % _CHECK_EVERY == 0:
                self.check_time()
            yield item


current_budget: ContextVar[Budget] = ContextVar("pba_tunnel_render_budget")
