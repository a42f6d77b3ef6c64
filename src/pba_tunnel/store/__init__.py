"""The versioned template store (SQLAlchemy Core over SQLite by default, any SQLAlchemy async URL)."""

from .bulk import BatchItem
from .labels import LabelMove
from .records import (
    ChangeInfo,
    EnhancementEvent,
    Page,
    RenderEvent,
    StoredTemplate,
    TemplateSummary,
    TemplateWrite,
    UsageStat,
    VersionInfo,
    WriteResult,
)
from .store import FullTextHit, PromptLabel, PromptRow, Store

__all__ = [
    "BatchItem",
    "ChangeInfo",
    "EnhancementEvent",
    "FullTextHit",
    "LabelMove",
    "Page",
    "PromptLabel",
    "PromptRow",
    "RenderEvent",
    "Store",
    "StoredTemplate",
    "TemplateSummary",
    "TemplateWrite",
    "UsageStat",
    "VersionInfo",
    "WriteResult",
]
