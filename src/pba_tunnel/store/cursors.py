"""Paging: pages are ordered by name, and a cursor is the last name of the previous page, opaque to callers."""

from __future__ import annotations

import base64

from ..errors import NotFoundError

MAX_PAGE = 1000


def encode_cursor(name: str) -> str:
    """Cursors are opaque to callers: the last name of a page, base64-encoded."""
    return base64.urlsafe_b64encode(name.encode()).decode()


def decode_cursor(cursor: str) -> str:
    """The name a cursor stands for; a malformed cursor is a NotFoundError that says what to pass."""
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise NotFoundError(f"invalid cursor {cursor!r}: it is not a next_cursor this server gave") from None
