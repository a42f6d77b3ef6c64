"""Importers of prompt collections in other formats; :func:`detect_format` picks one for a path."""

from .formats import FORMATS, ImportFormat, detect_format

__all__ = ["FORMATS", "ImportFormat", "detect_format"]
