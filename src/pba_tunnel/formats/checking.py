"""Check another tool's prompt files without a store (``pba-tunnel validate``): what an import would refuse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import PbaError
from ..templates.parsing import parse_template
from .reading import ForeignFormat, convert_files


def check_foreign(path: Path, file_format: ForeignFormat, max_bytes: int) -> list[dict[str, Any]]:
    """One entry per file that failed and per template found: ``path``, ``ok``, ``warnings`` (what a conversion
    would not carry over, and the parser's warnings), ``name`` and, when not ok, ``error``.

    Every version is converted and validated as an import would, includes resolved against the partials of the
    same files (a partial only the store holds counts as missing).
    """
    conversions, failed = convert_files(path, file_format, max_bytes)
    results: list[dict[str, Any]] = [
        {"path": where, "ok": False, "warnings": [], "error": f"{where}: {reason}"} for where, reason in failed
    ]
    partials = {c.name: c.versions[-1] for c in conversions if c.partial and c.versions}
    for conversion in conversions:
        warnings = [loss.line() for loss in conversion.losses]
        entry: dict[str, Any] = {"path": conversion.origin, "ok": True, "name": conversion.name, "warnings": warnings}
        if not conversion.partial:
            try:
                for source in conversion.versions:
                    parsed = parse_template(source, path=conversion.origin, partials=partials.get)
                    warnings += [w for w in parsed.warnings if w not in warnings]
            except PbaError as exc:
                entry.update(ok=False, error=f"{conversion.origin}: {exc.message}")
        results.append(entry)
    return results
