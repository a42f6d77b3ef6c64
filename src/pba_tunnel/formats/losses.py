"""What a conversion made of each template, and every field it could not carry over as it was."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Action = Literal["kept", "added", "inlined", "approximated", "dropped", "literal"]
# Only these change what the template is or renders; "kept" (moved to a free-form field that the way back
# restores), "added" (a value the format lacked, e.g. a generated description) and "inlined" (a partial's
# text written in place of its include: same render, no longer shared) lose nothing of a render.
LOSSY_ACTIONS: frozenset[str] = frozenset({"approximated", "dropped", "literal"})


@dataclass(frozen=True)
class Loss:
    """One field (or body construct) of one template with no exact equivalent, and what was done with it."""

    template: str
    field: str
    action: Action
    detail: str

    @property
    def lossy(self) -> bool:
        """True when the converted template differs from the original in meaning or content."""
        return self.action in LOSSY_ACTIONS

    def line(self) -> str:
        """One human-readable line for the report."""
        return f"{self.template}: {self.field}: {self.action}: {self.detail}"


@dataclass
class Conversion:
    """One template read from another format: its native sources, oldest version first."""

    name: str
    origin: str  # the file (and entry) it came from
    versions: list[str] = field(default_factory=list)
    losses: list[Loss] = field(default_factory=list)
    partial: bool = False  # a piece included by others (a Dotprompt partial), stored under ``_partials/``
    variables: list[str] = field(default_factory=list)  # of a partial: what its includers must declare
    labels: dict[str, int] = field(default_factory=dict)  # store label -> index in ``versions`` it points at

    def note(self, field_name: str, action: Action, detail: str) -> None:
        """Record one field with no exact equivalent."""
        self.losses.append(Loss(self.name, field_name, action, detail))


@dataclass
class ExportedFile:
    """One file an export writes (``relative`` is checked before anything is written)."""

    relative: str
    text: str
    template: str
    losses: list[Loss] = field(default_factory=list)

    def note(self, field_name: str, action: Action, detail: str) -> None:
        """Record one field with no exact equivalent."""
        self.losses.append(Loss(self.template, field_name, action, detail))
