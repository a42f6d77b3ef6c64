"""Template files: the spec (front matter), the parser and the variable analysis."""

from .parsing import parse_template, split_front_matter
from .spec import ArgumentSpec, MessagePart, ParsedTemplate, TemplateSpec

__all__ = [
    "ArgumentSpec",
    "MessagePart",
    "ParsedTemplate",
    "TemplateSpec",
    "parse_template",
    "split_front_matter",
]
