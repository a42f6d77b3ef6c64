"""A small ASGI app served by uvicorn with the header deadline, on a chosen HTTP parser and event loop.

``python header_deadline_app.py h11|httptools asyncio|uvloop SECONDS PORT`` serves on 127.0.0.1:PORT until
terminated: ``/ok`` answers at once, ``/slow`` after 1.5 s (reading its body first), ``/stream`` sends an SSE event
every 0.25 s for 1.5 s.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from pba_tunnel.server.request_deadline import HeaderDeadlineLink, header_deadline_protocol

PARSERS: dict[str, type[asyncio.Protocol]] = {"h11": H11Protocol, "httptools": HttpToolsProtocol}
LONG_SECONDS = 1.5  # longer than the deadline the tests set (1 s)
EVENTS = 6


async def answer(send: Any, body: bytes) -> None:
    """A whole response with a Content-Length."""
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: Any, receive: Any, send: Any) -> None:
    """``/ok``, ``/slow`` and ``/stream``."""
    if scope["path"] == "/stream":
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for number in range(EVENTS):
            await send({"type": "http.response.body", "body": f"data: {number}\n\n".encode(), "more_body": True})
            await asyncio.sleep(LONG_SECONDS / EVENTS)
        await send({"type": "http.response.body", "body": b""})
    elif scope["path"] == "/slow":
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await asyncio.sleep(LONG_SECONDS)
        await answer(send, b"slow " + body)
    else:
        await answer(send, b"ok")


def main() -> None:
    """Serve until terminated."""
    parser, loop, seconds, port = sys.argv[1:]
    uvicorn.run(
        HeaderDeadlineLink(app),
        host="127.0.0.1",
        port=int(port),
        http=header_deadline_protocol(float(seconds), PARSERS[parser]),
        loop="uvloop" if loop == "uvloop" else "asyncio",
        lifespan="off",
        ws="none",
        log_level="warning",
    )


if __name__ == "__main__":
    main()
