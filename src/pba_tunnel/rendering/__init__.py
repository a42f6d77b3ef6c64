"""Sandboxed, bounded rendering of parsed templates."""

from .renderer import RenderedMessage, Renderer, RenderResult

__all__ = ["RenderResult", "RenderedMessage", "Renderer"]
