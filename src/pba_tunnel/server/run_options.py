"""How the server answers over HTTP and what it runs on: JSON bodies or SSE streams, and the event loop.

Measured with ``python -m tests.bench --suite http``: an SSE stream per request (the SDK's default) costs about
twice the CPU of a JSON body, so JSON is used wherever it loses nothing. uvloop runs ``serve`` where it exists
(not on Windows, where asyncio's own loop runs instead): over stdio it cut a ``prompts/get`` round trip by a
third, over HTTP a little.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any, Literal

ResponseMode = Literal["auto", "json", "sse"]


def json_responses(mode: ResponseMode, *, stateless: bool) -> bool:
    """Whether a request POST is answered with one JSON body rather than an SSE stream.

    ``auto``: JSON when stateless, where a server-to-client request mid-call could not be answered anyway and no
    stream is resumed; SSE when stateful, which keeps mid-call sampling (``enhance_template`` for handshake-era
    clients), progress notifications and resumable streams.
    """
    return mode == "json" or (mode == "auto" and stateless)


def event_loop_options() -> dict[str, Any]:
    """anyio backend options for ``serve``: uvloop when it is installed (every transport; stdio gains most)."""
    return {} if find_spec("uvloop") is None else {"use_uvloop": True}
