"""Figures of the bench: each value with the baseline measured in the same run, their ratio and the target."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass
class Figure:
    """One measured figure with its baseline and target."""

    key: str
    name: str
    value: float
    unit: str
    baseline: str | None = None
    baseline_value: float | None = None
    ratio: float | None = None
    target: str = ""
    ok: bool | None = None


def p50(samples: Sequence[float]) -> float:
    """The median of the samples."""
    return statistics.median(samples)


def versus(
    key: str, name: str, value: float, unit: str, baseline: str, baseline_value: float | None, limit: float | None
) -> Figure:
    """A figure judged as a ratio to a baseline (no verdict when the baseline could not be measured)."""
    target = f"≤ {limit:g}x {baseline}" if limit is not None else "reported"
    if baseline_value is None:
        return Figure(key, name, value, unit, baseline, None, None, target, None)
    ratio = value / baseline_value
    return Figure(
        key, name, value, unit, baseline, baseline_value, ratio, target, None if limit is None else ratio <= limit
    )


def format_report(figures: Sequence[Figure]) -> str:
    """A plain-text line a figure."""
    lines = []
    for f in figures:
        verdict = {True: "ok", False: "MISSED", None: "-"}[f.ok]
        if f.baseline_value is not None:
            base = f" vs {f.baseline_value:,.1f} {f.unit} ({f.baseline})"
        elif f.baseline is not None:
            base = f" vs (not measured: {f.baseline})"
        else:
            base = ""
        ratio = f" = {f.ratio:.2f}x" if f.ratio is not None else ""
        lines.append(f"{f.name}: {f.value:,.1f} {f.unit}{base}{ratio}  target {f.target}  [{verdict}]")
    return "\n".join(lines)


def figures_json(figures: Sequence[Figure]) -> str:
    """The figures as JSON."""
    return json.dumps([asdict(f) for f in figures], indent=2, ensure_ascii=False)
