"""Which importer a path needs: template files (``.md`` files or folders) or a prompts.chat CSV."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Literal, get_args

from ..errors import PbaError
from .prompts_chat import REQUIRED_COLUMNS

ImportFormat = Literal["templates", "prompts-chat", "prompty", "dotprompt", "langfuse"]
FORMATS: tuple[ImportFormat, ...] = get_args(ImportFormat)


def detect_format(path: Path) -> ImportFormat:
    """``prompts-chat`` for a ``.csv`` file whose header has ``act`` and ``prompt``, else ``templates``.

    Other CSV files are refused (PbaError) rather than read as broken templates.
    """
    if not path.is_file() or path.suffix.lower() != ".csv":
        return "templates"
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        header = []
    columns = {c.strip().lower() for c in header}
    if all(c in columns for c in REQUIRED_COLUMNS):
        return "prompts-chat"
    raise PbaError(
        f"{path} is a CSV file but not a prompts.chat export: its header needs the columns "
        f"{', '.join(REQUIRED_COLUMNS)} (found: {', '.join(header) or 'nothing'})"
    )
