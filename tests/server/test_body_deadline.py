"""A client trickling its request body is treated as gone once the body deadline passes."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from pba_tunnel.server.http import BodyDeadline

pytestmark = pytest.mark.anyio


async def test_a_trickled_body_ends_as_a_disconnect_at_the_deadline() -> None:
    seen: list[dict[str, Any]] = []

    async def app(_scope: Any, receive: Any, _send: Any) -> None:
        while True:
            message = await receive()
            seen.append(message)
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                return

    async def trickle() -> dict[str, Any]:
        await anyio.sleep(0.05)  # one byte every 50 ms, for ever
        return {"type": "http.request", "body": b"x", "more_body": True}

    async def no_send(_message: Any) -> None:
        raise AssertionError("nothing is sent")

    with anyio.fail_after(5):
        started = anyio.current_time()
        await BodyDeadline(app, seconds=0.5)({"type": "http"}, trickle, no_send)
    assert seen[-1] == {"type": "http.disconnect"}
    assert 5 <= len(seen) <= 11  # the bytes that came before the deadline
    assert anyio.current_time() - started < 1.5


async def test_a_body_sent_in_time_passes_untouched() -> None:
    messages = [{"type": "http.request", "body": b'{"a":', "more_body": True}, {"type": "http.request", "body": b"1}"}]
    got: list[dict[str, Any]] = []

    async def app(_scope: Any, receive: Any, _send: Any) -> None:
        got.extend([await receive(), await receive()])

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def no_send(_message: Any) -> None:
        raise AssertionError("nothing is sent")

    await BodyDeadline(app, seconds=0.5)({"type": "http"}, receive, no_send)
    assert got == [
        {"type": "http.request", "body": b'{"a":', "more_body": True},
        {"type": "http.request", "body": b"1}"},
    ]
