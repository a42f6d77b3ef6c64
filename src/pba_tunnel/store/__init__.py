"""The versioned template store (SQLModel over SQLite by default, any SQLAlchemy async URL)."""

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
