"""Between parsed templates and the store's records: what a write stores, and which stored rows are prompts."""

from __future__ import annotations

from .errors import NotFoundError
from .store import StoredTemplate, TemplateWrite
from .templates.sections import content_hash
from .templates.spec import ParsedTemplate


def partial_write(name: str, source: str) -> TemplateWrite:
    """A partial as the store keeps it (no front matter, no arguments)."""
    return TemplateWrite(
        name=name,
        kind="partial",
        description=f"partial {name}",
        source=source,
        content_hash=content_hash(source, None),
    )


def prompt_only(stored: StoredTemplate) -> StoredTemplate:
    """``stored`` when it is a prompt; a partial is no prompt (checked before its source is parsed as one)."""
    if stored.kind != "prompt":
        raise NotFoundError(f"'{stored.name}' is a partial: it can only be included by templates")
    return stored


def template_write(parsed: ParsedTemplate) -> TemplateWrite:
    """A parsed template as the store keeps it."""
    from .templates.facts import facts_json  # YAML and Jinja2: not for commands that only read

    spec = parsed.spec
    return TemplateWrite(
        name=spec.name,
        category=spec.category,
        title=spec.title,
        description=spec.description,
        tags=list(spec.tags),
        arguments=list(spec.arguments),
        internal=spec.internal,
        source=parsed.source,
        content_hash=parsed.content_hash,
        facts_json=facts_json(parsed),
    )
