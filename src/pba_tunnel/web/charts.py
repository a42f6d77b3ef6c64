"""Bar charts as geometry for inline SVG (no script, no style attributes: the CSP allows neither)."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 640
HEIGHT = 180
LABEL_ROOM = 28  # pixels under the bars for their labels


@dataclass
class Bar:
    """One bar: where it is drawn, and what it stands for (shown as its title and as text)."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: int
    show_label: bool


def bars(series: list[tuple[str, int]], *, width: int = WIDTH, height: int = HEIGHT) -> list[Bar]:
    """Bars for ``(label, value)`` pairs, scaled to the largest value; about ten labels are shown at most."""
    if not series:
        return []
    top = max(value for _label, value in series) or 1
    slot = width / len(series)
    room = height - LABEL_ROOM
    every = max(1, len(series) // 10)
    result = []
    for index, (label, value) in enumerate(series):
        tall = room * value / top
        result.append(
            Bar(
                x=round(index * slot + slot * 0.1, 2),
                y=round(room - tall, 2),
                width=round(slot * 0.8, 2),
                height=round(tall, 2),
                label=label,
                value=value,
                show_label=index % every == 0,
            )
        )
    return result
