"""Template files: the spec (front matter), the parser and the variable analysis."""

from typing import TYPE_CHECKING, Any

from .sections import split_front_matter
from .spec import ArgumentSpec, MessagePart, ParsedTemplate, TemplateSpec

if TYPE_CHECKING:
    from .parsing import parse_template

__all__ = ["ArgumentSpec", "MessagePart", "ParsedTemplate", "TemplateSpec", "parse_template", "split_front_matter"]


def __getattr__(name: str) -> Any:
    # The parser pulls in Jinja2; importing the spec models alone must stay cheap (server cold start).
    if name == "parse_template":
        from . import parsing

        return getattr(parsing, name)
    raise AttributeError(name)
