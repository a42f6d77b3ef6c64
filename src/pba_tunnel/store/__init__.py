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
from .store import Store

__all__ = [
    "EnhancementEvent",
    "Page",
    "RenderEvent",
    "Store",
    "StoredTemplate",
    "TemplateSummary",
    "TemplateWrite",
    "VersionInfo",
    "WriteResult",
]
