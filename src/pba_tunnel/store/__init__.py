"""The versioned template store (SQLModel over SQLite by default, any SQLAlchemy async URL)."""

from .bulk import BatchItem
from .records import (
    EnhancementEvent,
    Page,
    RenderEvent,
    StoredTemplate,
    TemplateSummary,
    TemplateWrite,
    VersionInfo,
    WriteResult,
)
from .store import FullTextHit, PromptRow, Store

__all__ = [
    "BatchItem",
    "EnhancementEvent",
    "FullTextHit",
    "Page",
    "PromptRow",
    "RenderEvent",
    "Store",
    "StoredTemplate",
    "TemplateSummary",
    "TemplateWrite",
    "VersionInfo",
    "WriteResult",
]
