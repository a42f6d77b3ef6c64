"""structlog set-up: everything goes to stderr (on stdio, stdout is the protocol); JSON when not a terminal."""

from __future__ import annotations

import logging
import sys

import structlog

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def configure_logging(level: str = "warning", fmt: str | None = None) -> None:
    """Send structlog and stdlib logging to stderr at ``level``; ``fmt`` is "json", "console" or auto."""
    numeric = LEVELS.get(level.lower())
    if numeric is None:
        from .errors import ConfigError

        raise ConfigError(f"unknown log level {level!r}: use one of {', '.join(LEVELS)}")
    as_json = fmt == "json" or (fmt is None and not sys.stderr.isatty())
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(stream=sys.stderr, level=numeric, format="%(levelname)s %(name)s: %(message)s", force=True)
    # Alembic narrates every migration step at info; only its warnings matter to a user.
    logging.getLogger("alembic").setLevel(max(numeric, logging.WARNING))
