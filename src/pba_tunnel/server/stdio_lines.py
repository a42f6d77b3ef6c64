"""Lines of the stdio wire, bounded: the one line limit of both stdio transports, and the portable transport's stdin.

The SDK's ``stdio_server()`` reads stdin through a text wrapper that buffers a line without end (400 MB without a
newline cost 1.3 GB). It accepts a stdin of our own, so ``bounded_stdin()`` gives it one whose ``readline`` reads
at most ``MAX_LINE_BYTES``; a longer line is skipped in bounded chunks up to its newline and stands in as a line
that is JSON but no JSON-RPC message, so the client gets the answer the pipe transport gives it: -32600, null id.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import IO, cast

import anyio

MAX_LINE_BYTES = 64 * 1024 * 1024  # longer lines are refused (and skipped) instead of buffered without end
SKIP_CHUNK_BYTES = 1024 * 1024
REFUSED_LINE = f'{{"refused": "a line is longer than {MAX_LINE_BYTES} bytes"}}\n'


class LineTooLongError(ValueError):
    """A line longer than ``MAX_LINE_BYTES``: refused, and skipped up to its newline."""

    def __init__(self) -> None:
        super().__init__(f"a line is longer than {MAX_LINE_BYTES} bytes")


class BoundedLines(io.TextIOBase):
    """Text lines of a binary stream, as the SDK decodes them (UTF-8, invalid bytes replaced), each bounded."""

    def __init__(self, source: IO[bytes], limit: int = MAX_LINE_BYTES) -> None:
        super().__init__()
        self.source = source
        self.limit = limit

    def readable(self) -> bool:
        """A source of lines."""
        return True

    def readline(self, size: int = -1, /) -> str:  # type: ignore[override]  # noqa: ARG002 - bounded by limit
        """The next line (with its newline), ``REFUSED_LINE`` for one over the limit, or "" at the end of input."""
        line = self.source.readline(self.limit + 1)
        if len(line) <= self.limit or line.endswith(b"\n"):
            return line.decode("utf-8", errors="replace")
        while (rest := self.source.readline(SKIP_CHUNK_BYTES)) and not rest.endswith(b"\n"):
            pass
        return REFUSED_LINE


@contextmanager
def claimed_stdin() -> Iterator[IO[bytes]]:
    """The wire's stdin as bytes; meanwhile fd 0 reads the null device, as the SDK arranges for its own stdin,
    so nothing else in the process (or a child) can take bytes off the wire."""
    try:
        backed = sys.stdin.buffer.fileno() == 0
    except (AttributeError, OSError, ValueError):
        backed = False
    if not backed:
        yield sys.stdin.buffer
        return
    wire = os.dup(0)
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        try:
            os.dup2(null, 0)
        finally:
            os.close(null)
    except OSError:  # cannot divert: read the wire in place
        os.close(wire)
        yield sys.stdin.buffer
        return
    try:
        # closefd=False: a worker thread may still be blocked on it after the transport ends
        yield os.fdopen(wire, "rb", closefd=False)
    finally:
        with suppress(OSError):
            os.dup2(wire, 0)


def bounded_stdin(source: IO[bytes]) -> anyio.AsyncFile[str]:
    """``source`` as the stdin the SDK's ``stdio_server(stdin=…)`` reads lines from, each at most ``MAX_LINE_BYTES``."""
    return anyio.wrap_file(cast(IO[str], BoundedLines(source)))  # a text file, though not typed as IO[str]
