"""Python's cycle collector around start-up and exit, where it only walks objects that live as long as the process.

Importing the store, the SDK and their dependencies creates a few hundred thousand objects (classes, functions,
SQLAlchemy constructs) that live until the process ends. The collector walks them again at every full collection
while they load, and once more at exit, only for the OS to free them: on a command such as ``pba-tunnel list``
that was about a third of its time.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def starting_up() -> Iterator[None]:
    """No collection while the block loads modules and opens the store; what it made is then set aside for good."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()  # later collections skip every object alive now: start-up's, which stay until exit
        if enabled:
            gc.enable()


def exiting() -> None:
    """The process is about to end: spare the final collections the walk over every object."""
    gc.freeze()
