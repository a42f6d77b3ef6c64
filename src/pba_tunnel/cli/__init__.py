"""The ``pba-tunnel`` command line: thin commands over the service API."""

from __future__ import annotations

from .app import cli, main

__all__ = ["cli", "main"]
