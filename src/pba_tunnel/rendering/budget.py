"""The per-render budget: deadline, call depth and size bounds checked from inside the sandbox."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from ..config import Limits
from ..errors import (
    NumberTooLargeError,
    OutputTooLargeError,
    RangeTooLargeError,
    RecursionLimitError,
    RenderMemoryError,
    RenderTimeoutError,
    TooManyIncludesError,
)

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
    allocated: int = 0  # characters and list slots created so far (a bound on what the render holds)
    includes: int = 0

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.limits.max_render_seconds

    def check_time(self) -> None:
        """Stop the render once it has run longer than allowed."""
        if time.monotonic() > self.deadline:
            raise RenderTimeoutError(
                f"rendering took longer than {self.limits.max_render_seconds:g} s "
                "(set PBA_TUNNEL_MAX_RENDER_SECONDS to allow more)"
            )

    def charge(self, amount: int) -> None:
        """Count ``amount`` more characters (or list slots) created; refuse past ``max_render_memory``."""
        self.allocated += amount
        if self.allocated > self.limits.max_render_memory:
            raise RenderMemoryError(
                f"the render would create more than {self.limits.max_render_memory:,} characters of values "
                "in total (PBA_TUNNEL_MAX_RENDER_MEMORY)"
            )

    def check_length(self, length: int) -> None:
        """Refuse a text that would be longer than the whole output may be, and charge it."""
        if length > self.limits.max_output_bytes:
            raise OutputTooLargeError(
                f"a value of {length:,} characters exceeds the output limit of "
                f"{self.limits.max_output_bytes:,} bytes (PBA_TUNNEL_MAX_OUTPUT_BYTES)"
            )
        self.charge(length)

    def check_items(self, count: int) -> None:
        """Refuse a list, tuple or mapping of more than ``max_range`` items, and charge its slots."""
        if count > self.limits.max_range:
            raise RangeTooLargeError(
                f"a collection of {count:,} items exceeds the limit of {self.limits.max_range:,} (PBA_TUNNEL_MAX_RANGE)"
            )
        self.charge(8 * count)

    def check_value(self, value: object) -> None:
        """Apply the bound that fits ``value``: text length, collection size or integer width."""
        if isinstance(value, str | bytes | bytearray):
            self.check_length(len(value))
        elif isinstance(value, list | tuple | dict | set | frozenset):
            self.check_items(len(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            self.check_bits(value.bit_length())

    def check_bits(self, bits: int | float) -> None:
        """Refuse an integer result wider than ``max_integer_bits``."""
        if bits > self.limits.max_integer_bits:
            raise NumberTooLargeError(
                f"a number of about {int(bits):,} bits exceeds the limit of {self.limits.max_integer_bits:,} "
                "(PBA_TUNNEL_MAX_INTEGER_BITS)"
            )

    def enter_partial(self, output_cost: int) -> None:
        """Count one more partial rendered and charge what it may print unchecked."""
        self.includes += 1
        if self.includes > self.limits.max_includes:
            raise TooManyIncludesError(
                f"the render would include more than {self.limits.max_includes:,} partials (PBA_TUNNEL_MAX_INCLUDES)"
            )
        self.check_time()
        self.charge(output_cost)

    def check_count(self, count: int, what: str) -> None:
        """Refuse a count (range size, repetition, width) beyond the sandbox's bound."""
        limits = self.limits
        if count > limits.max_range and count > limits.max_output_bytes:
            # A count may reach either bound: a range is held by max_range, a repetition's text by the output limit.
            bound = max(limits.max_range, limits.max_output_bytes)
            raise RangeTooLargeError(
                f"{what} of {count:,} exceeds the sandbox's limit of {bound:,} "
                f"(the larger of PBA_TUNNEL_MAX_RANGE, now {limits.max_range:,}, and PBA_TUNNEL_MAX_OUTPUT_BYTES, "
                f"now {limits.max_output_bytes:,})"
            )

    def check_format_string(self, text: str, *, style: str = "%") -> None:
        """Refuse format strings whose widths or precisions would allocate beyond the output limit."""
        specs = _PERCENT_SPEC.findall(text) if style == "%" else _BRACE_SPEC.findall(text)
        for digits in (d for spec in specs for d in _DIGITS.findall(spec)):
            if len(digits) > 7 or int(digits) > self.limits.max_output_bytes:
                raise RangeTooLargeError(
                    f"the format width {digits} exceeds the limit of {self.limits.max_output_bytes:,} "
                    "(PBA_TUNNEL_MAX_OUTPUT_BYTES)"
                )

    def enter_call(self) -> None:
        """Count one more nested call (macros, loop recursion, callables)."""
        self.depth += 1
        if self.depth > self.limits.max_recursion_depth:
            raise RecursionLimitError(
                f"calls nested deeper than {self.limits.max_recursion_depth} levels "
                "(PBA_TUNNEL_MAX_RECURSION_DEPTH); look for a macro that calls itself"
            )

    def guard_iteration(self, iterable: Iterable[object], body_size: int = 0) -> Iterator[object]:
        """Yield from ``iterable`` checking the deadline every few items and charging the loop body's
        literal text (which a macro or ``{% set %}`` block would collect) for every item."""
        cost = body_size + 1
        for count, item in enumerate(iterable):
            if count % _CHECK_EVERY == 0:
                self.check_time()
            self.charge(cost)
            yield item

    def materialize(self, iterable: Iterable[object]) -> list[object]:
        """``list(iterable)``, refused once it passes ``max_range`` items, with the deadline checked."""
        items: list[object] = []
        limit = self.limits.max_range
        for count, item in enumerate(iterable):
            if count % _CHECK_EVERY == 0:
                self.check_time()
            if count >= limit:
                self.check_items(count + 1)
            items.append(item)
        self.charge(8 * len(items))
        return items


current_budget: ContextVar[Budget] = ContextVar("pba_tunnel_render_budget")
