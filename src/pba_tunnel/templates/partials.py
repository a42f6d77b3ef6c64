"""Names of partials: includable pieces under ``_partials/`` that are never prompts themselves."""

from __future__ import annotations

PARTIALS_PREFIX = "_partials/"


def is_partial_name(name: str) -> bool:
    """True for include names that refer to a partial (``_partials/…``)."""
    return name.startswith(PARTIALS_PREFIX)


__all__ = ["PARTIALS_PREFIX", "is_partial_name"]
