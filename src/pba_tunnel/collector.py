"""Python's cycle collector: off around start-up and exit, where it only walks objects that live as long as the
process, and less often while a server is under load.

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


# Net new container objects between two young-generation collections while serving (CPython's default: 700).
YOUNG_OBJECTS = 20_000


def collect_less_often() -> None:
    """Raise the garbage collector's first threshold for a server under load.

    At CPython's default a young collection ran every few requests and promoted the objects of every request in
    flight; the old generations filled with them and a full collection (~100 ms over the store's caches) ran about
    every second: with 50 HTTP clients the collector took a quarter of the CPU and set the p99 latency. Objects a
    request leaves are mostly freed by reference counting long before 20,000 accumulate.
    """
    _young, *older = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS, *older)
