"""Which variables a template body uses, found in Jinja2's AST, following ``_partials/`` includes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, NoReturn

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..config import Limits
from ..errors import InvalidTemplateError
from .partials import is_partial_name
from .spec import MessagePart

PartialLookup = Callable[[str], str | None]

# The syntax options and the removed globals of the renderer's sandbox (rendering/sandbox.py). Parsing needs
# only the syntax, so it has its own environment and templates/ stays below rendering/; a test in
# tests/rendering checks that both agree.
SYNTAX_OPTIONS: dict[str, Any] = {
    "undefined": StrictUndefined,
    "autoescape": False,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": False,
}
UNSAFE_GLOBALS = frozenset({"cycler", "joiner", "lipsum"})


class _SyntaxSandbox(ImmutableSandboxedEnvironment):
    """Parses and compiles, never renders; compiling must not evaluate anything a template wrote.

    Jinja's code generator folds constant output expressions while compiling (even with the optimizer off):
    intercepting these operators keeps ``{{ 10 ** 100000000 }}`` from being computed here, and filters that
    take the context (below) are never folded, so ``{{ "x"|center(10**9) }}`` is not run either.
    """

    intercepted_binops = frozenset({"*", "**", "%", "+", "-"})


@pass_context
def _never_called(context: Context, *args: Any, **kwargs: Any) -> NoReturn:  # noqa: ARG001
    raise AssertionError("the parse environment compiles templates but never renders them")


# One environment serves every parse. Filters keep their names (an unknown filter is a syntax error) but not
# their code; without the unsafe globals, using one is an undeclared variable.
_PARSE_ENV = _SyntaxSandbox(**SYNTAX_OPTIONS)
_PARSE_ENV.filters = dict.fromkeys(_PARSE_ENV.filters, _never_called)
for _name in UNSAFE_GLOBALS:
    _PARSE_ENV.globals.pop(_name, None)
_GLOBALS = frozenset(_PARSE_ENV.globals)
_REFERENCE_NODES = (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)


@dataclass
class VariableAnalysis:
    """Variables used by a body and the partials it includes, with where each name first appears."""

    used: set[str] = field(default_factory=set)
    partials: set[str] = field(default_factory=set)
    lines: dict[str, int] = field(default_factory=dict)

    def first_line(self, names: Iterable[str]) -> int | None:
        """The earliest file line among ``names`` (None when only partials use them)."""
        found = [self.lines[n] for n in names if n in self.lines]
        return min(found) if found else None


# Trees made only of these nodes, shallow enough (below), compile whenever they parse: the code generator
# refuses none of them (it refuses blocks, macros, unknown filters and tests, assigning to ``loop``, huge
# integers) and the Python they become stays far inside Python's limits (100 indents, 200 parentheses, 20
# nested loops).
_PLAIN_NODES = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const, nodes.Getattr, nodes.Getitem,
    nodes.Slice, nodes.If, nodes.For, nodes.Assign, nodes.Include, nodes.Filter, nodes.Test, nodes.Compare,
    nodes.Operand, nodes.And, nodes.Or, nodes.Not, nodes.Neg, nodes.Pos, nodes.Add, nodes.Sub, nodes.Mul,
    nodes.Div, nodes.FloorDiv, nodes.Mod, nodes.Pow, nodes.Concat, nodes.CondExpr, nodes.List, nodes.Tuple,
    nodes.Dict, nodes.Pair, nodes.Keyword, nodes.Call,
)  # fmt: skip
_PLAIN_TYPES = frozenset(_PLAIN_NODES)
PLAIN_DEPTH = 24  # nodes from the root to the deepest leaf
PLAIN_LOOPS = 6  # {% for %} inside one another


def compiles_without_trying(tree: nodes.Template) -> bool:
    """True when ``tree`` is plain and shallow enough that compiling it cannot fail (so need not be tried)."""
    stack: list[tuple[nodes.Node, int, int]] = [(tree, 1, 0)]
    while stack:
        node, depth, loops = stack.pop()
        if type(node) not in _PLAIN_TYPES or depth > PLAIN_DEPTH or loops > PLAIN_LOOPS:
            return False
        if isinstance(node, nodes.Const) and isinstance(node.value, int) and node.value.bit_length() > 256:
            return False  # the generated code spells it in digits, which Python refuses beyond 4,300
        if isinstance(node, nodes.Filter) and node.name not in _PARSE_ENV.filters:
            return False
        if isinstance(node, nodes.Test) and node.name not in _PARSE_ENV.tests:
            return False
        if isinstance(node, nodes.For):
            loops += 1
            names = [node.target, *node.target.find_all(nodes.Name)]
            if any(isinstance(n, nodes.Name) and n.name == "loop" for n in names):
                return False
        stack.extend((child, depth + 1, loops) for child in node.iter_child_nodes())
    return True


class TokenBudget:
    """The Jinja tokens one template (with its partials) may still have: parsing and analysing cost ~20 µs a token,
    so a 100 KB body of tiny expressions (80,000 tokens) is refused after a cheap count, before the parse."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit

    def spend(self, source: str, *, path: str | None, line: int, field_name: str) -> None:
        """Count the tokens of ``source`` (stopping past what is left); refuse the template when they exceed it."""
        tokens = (token for token in _PARSE_ENV.lex(source) if token[1] != "whitespace")
        counted = sum(1 for _ in islice(tokens, self.left + 1))
        if counted > self.left:
            raise InvalidTemplateError(
                f"the template has more than {self.limit:,} Jinja tokens (names, literals, operators, tag "
                "delimiters; PBA_TUNNEL_MAX_TEMPLATE_TOKENS): write fewer, larger expressions or plain text",
                path=path,
                field=field_name,
                line=line,
            )
        self.left -= counted


def parse_body(
    source: str, *, path: str | None, line: int, field_name: str = "body", budget: TokenBudget | None = None
) -> nodes.Template:
    """Parse one Jinja source within a token budget, mapping syntax errors to the file's line numbers."""
    try:
        (budget or TokenBudget(Limits().max_template_tokens)).spend(source, path=path, line=line, field_name=field_name)
        tree = _PARSE_ENV.parse(source)
        # Compiling (~1 ms) makes Python's own limits (nesting depth, nested blocks) fail here, not at render.
        # From the tree, not the source: parsing is a third of the cost of analysing a large body. Plain,
        # shallow trees (most prompts) cannot fail it, and skipping it halves the cost of a parse.
        if not compiles_without_trying(tree):
            _PARSE_ENV.compile(tree)
    except TemplateSyntaxError as exc:
        raise InvalidTemplateError(
            f"Jinja syntax error: {exc.message}",
            path=path,
            field=field_name,
            line=line + (exc.lineno or 1) - 1,
        ) from None
    except (RecursionError, SyntaxError, MemoryError):
        raise InvalidTemplateError(
            "the template nests too deeply: flatten nested blocks, loops or parentheses",
            path=path,
            field=field_name,
            line=line,
        ) from None
    except (ValueError, OverflowError) as exc:
        # e.g. a number literal of more than 4,300 digits, which Python refuses to convert
        raise InvalidTemplateError(
            f"the template has a literal Python cannot read: {exc}", path=path, field=field_name, line=line
        ) from None
    return tree


def _referenced_partials(tree: nodes.Template, *, path: str | None, line: int) -> list[str]:
    names: list[str] = []
    for node in tree.find_all(_REFERENCE_NODES):
        where = line + node.lineno - 1
        if isinstance(node, nodes.Extends):
            raise InvalidTemplateError(
                '{% extends %} is not supported: use {% include "_partials/…" %}',
                path=path,
                field="body",
                line=where,
            )
        target = node.template  # type: ignore[attr-defined]
        if not isinstance(target, nodes.Const) or not isinstance(target.value, str):
            raise InvalidTemplateError(
                'dynamic includes are not allowed: include a literal "_partials/…" name',
                path=path,
                field="body",
                line=where,
            )
        if not is_partial_name(target.value):
            raise InvalidTemplateError(
                f"can only include partials under _partials/, not '{target.value}'",
                path=path,
                field="body",
                line=where,
            )
        names.append(target.value)
    return names


@dataclass
class _PartialFacts:
    """What one partial contributes, computed once per analysis however often it is included."""

    used: frozenset[str]
    includes: tuple[str, ...]


def analyse_variables(
    parts: Iterable[MessagePart], *, path: str | None, partials: PartialLookup | None, limits: Limits | None = None
) -> VariableAnalysis:
    """Collect the variables of every part and of every partial they include (cycles are errors).

    Each partial is parsed once; how many partial renders the includes expand to is counted (not
    performed) and refused beyond ``max_includes``, so partials including the next twice cost nothing.
    """
    lookup = partials or (lambda _name: None)
    bounds = limits or Limits()
    analysis = VariableAnalysis()
    facts: dict[str, _PartialFacts] = {}
    expanded: dict[str, int] = {}  # partial renders one include of a partial causes (itself included)
    budget = TokenBudget(bounds.max_template_tokens)  # shared by every part and partial

    def used_names(tree: nodes.Template) -> set[str]:
        return meta.find_undeclared_variables(tree) - _GLOBALS

    def partial_facts(partial: str, chain: tuple[str, ...], line: int) -> _PartialFacts:
        if partial in chain:
            cycle = " -> ".join((*chain, partial))
            raise InvalidTemplateError(
                f"partials include each other in a cycle: {cycle}", path=path, field="body", line=line
            )
        known = facts.get(partial)
        if known is not None:
            return known
        if len(chain) >= bounds.max_recursion_depth:
            raise InvalidTemplateError(
                f"partials include each other more than {bounds.max_recursion_depth} levels deep",
                path=path,
                field="body",
                line=line,
            )
        source = lookup(partial)
        if source is None:
            raise InvalidTemplateError(
                f"unknown partial '{partial}': add the file {partial}", path=path, field="body", line=line
            )
        tree = parse_body(source, path=partial, line=1, budget=budget)
        includes = tuple(_referenced_partials(tree, path=partial, line=1))
        result = _PartialFacts(frozenset(used_names(tree)), includes)
        total = 1
        for child in includes:
            partial_facts(child, (*chain, partial), line)
            total += expanded[child]
        facts[partial] = result
        expanded[partial] = min(total, bounds.max_includes + 1)  # capped: the count itself stays small
        return result

    count = 0
    for part in parts:
        tree = parse_body(part.source, path=path, line=part.line, budget=budget)
        names = used_names(tree)
        analysis.used |= names
        for node in tree.find_all(nodes.Name):
            if node.ctx == "load" and node.name in names and node.name not in analysis.lines:
                analysis.lines[node.name] = part.line + node.lineno - 1
        for partial in _referenced_partials(tree, path=path, line=part.line):
            partial_facts(partial, (), part.line)
            count += expanded[partial]
            if count > bounds.max_includes:
                raise InvalidTemplateError(
                    f"the includes expand to more than {bounds.max_includes:,} partial renders "
                    "(PBA_TUNNEL_MAX_INCLUDES): include each partial once, not from every level",
                    path=path,
                    field="body",
                    line=part.line,
                )
    for partial, fact in facts.items():
        analysis.partials.add(partial)
        analysis.used |= fact.used
    return analysis
