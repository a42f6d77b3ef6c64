"""What an import reports, shared by every importer (template files and prompts.chat CSVs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import PbaError
from ..store import WriteResult

Progress = Callable[[int, int], None]  # (done, total)
IMPORT_BATCH = 500  # templates per transaction: enough to amortise a commit, few enough to show progress


@dataclass
class ImportReport:
    """What an import did, file by file."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One closing line, e.g. ``added 3, updated 1, unchanged 30, failed 0``."""
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, unchanged {len(self.unchanged)}, "
            f"failed {len(self.failed)}"
        )


def record(report: ImportReport, where: str, result: WriteResult | PbaError) -> None:
    """Put one write's outcome (from ``save_batch``) in its list of ``report``."""
    if isinstance(result, PbaError):
        report.failed.append((where, result.message))
    else:
        bucket = report.added if result.created else report.updated if result.changed else report.unchanged
        bucket.append(result.name)
