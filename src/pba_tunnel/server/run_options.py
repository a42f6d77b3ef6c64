"""How the server answers over HTTP and what it runs on: JSON bodies or SSE streams, and the event loop.

Measured with ``python -m tests.bench --suite http``: an SSE stream per request (the SDK's default) costs over
twice the CPU of a JSON body, so JSON is used wherever it loses nothing. uvloop runs ``serve`` where it exists
(not on Windows, where asyncio's own loop runs instead): over stdio it cut a ``prompts/get`` round trip by a
third, over HTTP a little.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any, Literal

ResponseMode = Literal["auto", "json", "sse"]
Answers = Literal["json", "sse", "by-client"]


def answers_for(mode: ResponseMode, *, stateless: bool) -> Answers:
    """How request POSTs are answered: one JSON body, an SSE stream, or whichever the client needs.

    ``auto``: JSON when stateless, where a server-to-client request mid-call could not be answered anyway and no
    stream is resumed; when stateful, SSE streams only for sessions whose client declared sampling, which
    ``enhance_template`` asks for mid-call on handshake-era connections (``answer_modes.py``), JSON for the rest.
    """
    if mode != "auto":
        return mode
    return "json" if stateless else "by-client"


def event_loop_options() -> dict[str, Any]:
    """anyio backend options for ``serve``: uvloop when it is installed (every transport; stdio gains most)."""
    return {} if find_spec("uvloop") is None else {"use_uvloop": True}
