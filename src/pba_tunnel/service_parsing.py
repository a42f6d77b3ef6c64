"""Turning sources into parsed templates for the service: validation, and parses kept by content."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import anyio

from .config import Limits
from .recent import Recent
from .store import StoredTemplate, TemplateWrite
from .stored import partial_write

if TYPE_CHECKING:
    from .templates.spec import ParsedTemplate
    from .templates.variables import PartialLookup

_UNFILLED_LIMIT = 20_000  # facts found by parsing, waiting to be written with the next flush


class ParseOps:
    """Parsing and validating sources against the stored partials, as part of the service."""

    limits: Limits
    _partials: dict[str, str]
    _parsed: Recent[str, ParsedTemplate]
    _unfilled: list[tuple[str, int, str]]

    def _partial(self, name: str) -> str | None:
        """A partial's source by name (looked up at call time: the set is replaced whole on reload)."""
        return self._partials.get(name)

    def parse(
        self,
        source: str,
        *,
        path: str | None = None,
        default_name: str | None = None,
        default_category: str | None = None,
        partials: PartialLookup | None = None,
    ) -> ParsedTemplate:
        """Parse and validate a template source against the stored partials (or ``partials``)."""
        from .templates.parsing import parse_template  # YAML and Jinja2: not for commands that only read

        return parse_template(
            source,
            path=path,
            default_name=default_name,
            default_category=default_category,
            limits=self.limits,
            partials=partials or self._partial,
        )

    def check_partial(self, name: str, source: str, *, path: str | None = None) -> TemplateWrite:
        """Validate a partial's source and return it ready to store."""
        from .templates.parsing import check_source_size
        from .templates.variables import TokenBudget, parse_body

        check_source_size(source, self.limits, path)
        parse_body(source, path=path or name, line=1, budget=TokenBudget(self.limits.max_template_tokens))
        return partial_write(name, source)

    async def _parsed_version(self, stored: StoredTemplate, facts: str | None = None) -> ParsedTemplate:
        """The parsed form of a stored version: from memory, else from its stored facts, else parsed."""
        parsed = self._parsed.get(stored.content_hash)
        if parsed is not None:
            return parsed
        from .templates.facts import facts_json, parsed_from_facts

        if facts is not None:
            parsed = parsed_from_facts(stored.source, stored.content_hash, facts)
        if parsed is None:
            parsed = await self._parse_off_loop(
                stored.source, default_name=stored.name, default_category=stored.category
            )
            found = facts_json(parsed) if stored.version == stored.current_version else None
            if found is not None and len(self._unfilled) < _UNFILLED_LIMIT:
                self._unfilled.append((stored.name, stored.version, found))
        self._parsed.put(stored.content_hash, parsed)
        return parsed

    async def _parse_off_loop(
        self, source: str, *, default_name: str | None, default_category: str | None
    ) -> ParsedTemplate:
        # Parsing a large body takes seconds at worst: in a worker thread, so other clients are answered meanwhile.
        parse = partial(self.parse, source, default_name=default_name, default_category=default_category)
        return await anyio.to_thread.run_sync(parse)
