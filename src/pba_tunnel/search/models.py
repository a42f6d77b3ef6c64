"""What a search returns."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Mode = Literal["all", "any", "fuzzy", "filter"]


class SearchHit(BaseModel):
    """One result: what it is, how well and where it matched."""

    name: str
    title: str | None
    description: str
    category: str | None
    tags: list[str]
    version: int
    score: float
    snippet: str = Field(description="Text around the match, matches in **bold**")
    matched: list[str] = Field(description="Fields the query matched in")
    fuzzy: bool = Field(default=False, description="Found by similarity of name or title (a likely typo)")


class SearchResult(BaseModel):
    """Results, and how they were found (``notice`` says when the query was loosened)."""

    query: str
    mode: Mode
    notice: str | None = None
    results: list[SearchHit]
