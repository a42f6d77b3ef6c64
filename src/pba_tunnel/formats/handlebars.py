"""A small Handlebars tokenizer, and a translator of Dotprompt's Handlebars subset into our Jinja.

Translated: ``{{path}}`` / ``{{{path}}}`` (Dotprompt never HTML-escapes), ``{{#if}}``/``{{else}}``/
``{{else if}}``, ``{{#unless}}``, ``{{#each}}`` (over a list; ``this``, ``@index``, ``@first``, ``@last``,
``../`` and ``@root.``), ``{{role "…"}}`` at the top level, ``{{> partial}}``, comments, ``~`` whitespace
control and ``\\{{`` escapes. Handlebars' "standalone" rule (a line holding only a block tag, ``else``, a
comment or a partial disappears with its newline) is applied here, and the Jinja tags are written so that
our ``trim_blocks``/``lstrip_blocks`` strip nothing more. Anything else is kept as literal text and named
in the conversion's report: never dropped, never guessed.

Semantics kept: a missing value prints nothing and is false (nested paths go through ``default(none)``);
``{{#each}}`` treats its value as a list (``@key`` and objects are not translated). Known differences: an
empty object is true in Handlebars and false in Jinja, and a printed number, boolean or list reads as
Python writes it (the Dotprompt importer reports each such argument).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..templates.literal import escape_literal, escape_role_lines

_TAG = re.compile(r"\{\{(~?)(\{?)(!--.*--|!.*|.*?)(\}?)(~?)\}\}", re.S)  # one tag, already cut out
_PATH_PART = re.compile(r"^(?:[A-Za-z_$][\w$-]*|\[[^\]]+\])$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ARG = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|\S+")
ROLES = {"system": "system", "user": "user", "model": "assistant", "assistant": "assistant"}
_TESTS = ("if", "unless", "ifEquals", "unlessEquals")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")


def _literal(word: str) -> str | None:
    """Jinja for a Handlebars literal (a string without escapes, a number, true/false/null), else None."""
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "\"'" and "\\" not in word and word[0] not in word[1:-1]:
        return word
    if _NUMBER.match(word):
        return word
    return {"true": "true", "false": "false", "null": "none", "undefined": "none"}.get(word)


# Names Jinja reads as something else (keywords, constants, globals): never an argument.
_JINJA_WORDS = {
    "true", "false", "none", "and", "or", "not", "in", "is", "if", "else", "loop", "self", "range", "dict",
    "namespace", "lipsum", "cycler", "joiner", "caller", "kwargs", "varargs", "super",
}  # fmt: skip


@dataclass
class Tag:
    """One ``{{…}}`` of a Handlebars source."""

    raw: str
    body: str  # between the braces, without ~ and comment/triple markers
    strip_left: bool
    strip_right: bool
    comment: bool = False
    standalone: bool = False  # alone on its line: Handlebars drops the line
    literal: bool = False  # not translated: kept as written, with the line it stands on


Token = str | Tag  # literal text, or a tag


def _tag_end(source: str, start: int) -> tuple[int, int] | None:
    """(end of the body, end of the tag) for the tag opening at ``start``, or None when it is never closed."""
    if source.startswith("!--", start + 2) or source.startswith("~!--", start + 2):
        close = source.find("--", source.find("!--", start) + 3)
        while close != -1 and not re.match(r"--~?\}\}", source[close : close + 5]):
            close = source.find("--", close + 1)
        if close == -1:
            return None
        return close + 2, source.index("}}", close) + 2
    triple = source.startswith("{", start + 2) or source.startswith("~{", start + 2)
    close = source.find("}}}" if triple else "}}", start + 2)
    if close == -1:
        return None
    return close, close + (3 if triple else 2)


def tokenize(source: str) -> list[Token]:
    """Split a Handlebars source into literal text and tags (``\\{{`` escapes become text), in linear time."""
    tokens: list[Token] = []
    text: list[str] = []
    position = 0
    while (start := source.find("{{", position)) != -1:
        slashes = len(source[position:start]) - len(source[position:start].rstrip("\\"))
        found = _tag_end(source, start)
        if found is None:
            break  # an unclosed '{{' and all after it: text
        end = found[1]
        raw = source[start:end]
        if slashes % 2 == 1:  # \{{ … }}: the tag is text (its backslash consumed)
            text.append(source[position : start - 1] + raw)
            position = end
            continue
        text.append(source[position : start - slashes] + "\\" * (slashes // 2))
        match = _TAG.fullmatch(raw)
        if match is None:
            text.append(raw)
            position = end
            continue
        if text:
            tokens.append("".join(text))
            text = []
        left, _brace, body, _close, right = match.groups()
        comment = body.startswith("!")
        inner = body[3:-2] if body.startswith("!--") else body[1:] if comment else body
        tokens.append(Tag(raw, inner.strip(), bool(left), bool(right), comment))
        position = end
    text.append(source[position:])
    tokens.append("".join(text))
    return [t for t in tokens if not (isinstance(t, str) and t == "")]


def _standalone_kind(tag: Tag) -> bool:
    body = tag.body
    return tag.comment or body[:1] in ("#", "/", ">", "^") or body == "else" or body.startswith("else ")


def _apply_whitespace(tokens: list[Token]) -> list[Token]:
    """Apply ``~`` and Handlebars' standalone-line rule (judged on the original lines) to the text around tags."""
    cut: dict[int, list[int]] = {i: [0, len(t)] for i, t in enumerate(tokens) if isinstance(t, str)}
    for index, token in enumerate(tokens):
        if not isinstance(token, Tag) or not _standalone_kind(token) or token.literal:
            continue
        before = tokens[index - 1] if index > 0 else ""
        after = tokens[index + 1] if index + 1 < len(tokens) else ""
        if not isinstance(before, str) or not isinstance(after, str):
            continue
        head = before.rsplit("\n", 1)
        starts_line = (len(head) == 2 or index <= 1) and head[-1].strip(" \t") == ""
        tail = re.match(r"[ \t]*(?:\r?\n|\Z)", after)
        ends_line = tail is not None and (tail.group(0).endswith("\n") or index + 2 >= len(tokens))
        if starts_line and ends_line and tail is not None:
            token.standalone = True
            if index > 0:
                cut[index - 1][1] = min(cut[index - 1][1], len(before) - len(head[-1]))
            if index + 1 < len(tokens):
                cut[index + 1][0] = max(cut[index + 1][0], tail.end())
    out: list[Token] = [t if isinstance(t, Tag) else t[cut[i][0] : max(cut[i])] for i, t in enumerate(tokens)]
    for index, token in enumerate(out):
        if not isinstance(token, Tag):
            continue
        if token.strip_left and index > 0 and isinstance(out[index - 1], str):
            out[index - 1] = str(out[index - 1]).rstrip()
        if token.strip_right and index + 1 < len(out) and isinstance(out[index + 1], str):
            out[index + 1] = str(out[index + 1]).lstrip()
    return out


@dataclass
class Scope:
    """One ``{{#each}}`` level: the Jinja name of its item."""

    item: str


@dataclass
class Translation:
    """A Jinja body, the top-level variables it reads, the partials it includes, what was not translated."""

    body: str
    variables: list[str] = field(default_factory=list)
    partials: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    structured: set[str] = field(default_factory=set)  # iterated or read by field: JSON values, not text
    printed: set[str] = field(default_factory=set)  # printed somewhere (a condition-only one is a JSON value)
    conditions: set[str] = field(default_factory=set)


class _Translator:
    def __init__(self, partial_name: Callable[[str], str | None]) -> None:
        self.partial_name = partial_name
        self.items: list[tuple[str, str, bool]] = []  # (kind, text, standalone): text, block, var, role, comment
        self.scopes: list[Scope] = []
        self.stack: list[str] = []  # open blocks: if / unless / each / literal
        self.result = Translation("")
        self.current = False  # whether the tag being translated stands alone on its line

    # -- expressions ---------------------------------------------------------------------------------

    def path(self, text: str) -> str | None:
        """Jinja for a Handlebars path, or None when it is not one we translate."""
        depth = len(self.scopes)
        if text.startswith("@root."):
            text, depth = text[len("@root.") :], 0
        while text.startswith("../"):
            text, depth = text[3:], max(depth - 1, 0)
        if text in ("@index", "@first", "@last"):
            return "loop." + {"@index": "index0", "@first": "first", "@last": "last"}[text] if self.scopes else None
        if text.startswith("@"):
            return None
        parts = re.split(r"[./]", text) if text not in ("this", ".") else ["this"]
        if parts[0] in ("this", "."):
            if depth == 0:
                return None  # the whole input object: no single argument holds it
            parts = [self.scopes[depth - 1].item, *parts[1:]]
        elif depth > 0:
            parts = [self.scopes[depth - 1].item, *parts]
        elif not _IDENTIFIER.match(parts[0]) or parts[0] in _JINJA_WORDS:
            return None
        elif parts[0] not in self.result.variables:
            self.result.variables.append(parts[0])
        if depth == 0 and len(parts) > 1:
            self.result.structured.add(parts[0])
        if not all(_PATH_PART.match(p) and not p.startswith("[") and _IDENTIFIER.match(p) for p in parts[1:]):
            return None
        expression = parts[0]
        for part in parts[1:]:
            expression = (
                f"({expression}).{part}|default(none)" if "|" in expression else f"{expression}.{part}|default(none)"
            )
        return expression

    # -- items ---------------------------------------------------------------------------------------

    def literal(self, tag: Tag, why: str) -> None:
        self.result.problems.append(f"{tag.raw!r}: {why}; kept as literal text")
        self.text(tag)

    def text(self, tag: Tag) -> None:
        """A tag written as it is."""
        tag.literal = True
        self.items.append(("text", tag.raw, False))

    def tag(self, tag: Tag) -> None:
        body = tag.body
        self.current = tag.standalone
        if tag.comment:
            self.items.append(("comment", body, self.current))
            return
        words = _ARG.findall(body[1:] if body[:1] in "#/>^" else body)
        head = body[:1]
        if head == "#":
            self.open_block(tag, words)
        elif head == "/":
            self.close_block(tag, words)
        elif head == ">":
            self.partial(tag, words)
        elif body == "else" or body == "^" or body.startswith("else "):
            self.else_(tag, words[1:] if body.startswith("else ") else [])
        elif words[:1] == ["role"] and len(words) == 2 and words[1].strip("\"'") in ROLES:
            if self.stack:
                self.literal(tag, "a role change inside a block has no equivalent (messages split before rendering)")
            else:
                self.items.append(("role", ROLES[words[1].strip("\"'")], False))
                self.result.roles.append(words[1].strip("\"'"))
        elif len(words) == 1 and (expression := self.path(words[0])) is not None:
            self.items.append(("var", expression, False))
            self.result.printed.add(words[0])
        else:
            self.literal(tag, f"the helper or expression '{body}' has no equivalent")

    def condition(self, words: list[str]) -> str | None:
        if len(words) == 1:
            if not self.scopes:
                self.result.conditions.add(words[0])
            return self.path(words[0])
        return None

    def test(self, name: str, words: list[str]) -> str | None:
        """The Jinja test of ``if``/``unless``/``ifEquals``/``unlessEquals`` with ``words``, or None."""
        if name in ("if", "unless"):
            test = self.condition(words)
            return None if test is None else f"{'not ' if name == 'unless' else ''}{test}"
        if name in ("ifEquals", "unlessEquals") and len(words) == 2:
            if not self.scopes:
                self.result.conditions.update(w for w in words if _literal(w) is None)
            left, right = (_literal(w) or self.path(w) for w in words)
            if left is None or right is None:
                return None
            return f"{left} {'==' if name == 'ifEquals' else '!='} {right}"
        return None

    def open_block(self, tag: Tag, words: list[str]) -> None:
        name = words[0] if words else ""
        if name in _TESTS and (test := self.test(name, words[1:])) is not None:
            self.items.append(("block", f"if {test}", self.current))
            self.stack.append(name)
        elif name == "each" and len(words) == 2 and (iterable := self.path(words[1])) is not None:
            item = "item" if not self.scopes else f"item{len(self.scopes) + 1}"
            if not self.scopes and _IDENTIFIER.match(words[1]):
                self.result.structured.add(words[1])
            # Handlebars iterates nothing over a missing value; Jinja would fail on None.
            self.items.append(("block", f"for {item} in {iterable} or []", self.current))
            self.scopes.append(Scope(item))
            self.stack.append("each")
        else:
            self.literal(tag, f"the block '{name}' has no equivalent")
            self.stack.append("literal")

    def close_block(self, tag: Tag, words: list[str]) -> None:
        kind = self.stack.pop() if self.stack else None
        if kind is None or kind == "literal" or (words and words[0] != kind):
            self.text(tag)
            if kind != "literal":
                self.result.problems.append(f"{tag.raw!r}: closes no open block; kept as literal text")
            return
        if kind == "each":
            self.scopes.pop()
        self.items.append(("block", "endfor" if kind == "each" else "endif", self.current))

    def else_(self, tag: Tag, words: list[str]) -> None:
        kind = self.stack[-1] if self.stack else None
        if kind == "literal":
            self.text(tag)
        elif kind in (*_TESTS, "each") and not words:
            self.items.append(("block", "else", self.current))
        elif kind in _TESTS and words[:1] and words[0] in _TESTS and (test := self.test(words[0], words[1:])):
            self.items.append(("block", f"elif {test}", self.current))
        else:
            self.literal(tag, "this 'else' has no equivalent here")

    def partial(self, tag: Tag, words: list[str]) -> None:
        name = self.partial_name(words[0].strip("\"'")) if len(words) == 1 else None
        if name is None:
            self.literal(tag, "a partial with arguments or an unknown partial has no equivalent")
            return
        self.items.append(("block", f'include "{name}"', self.current))
        self.result.partials.append(name)

    # -- output --------------------------------------------------------------------------------------

    def render(self) -> str:
        out: list[str] = []
        for index, (kind, text, standalone) in enumerate(self.items):
            nxt = self.items[index + 1] if index + 1 < len(self.items) else ("text", "", False)
            after_newline = nxt[0] == "text" and nxt[1][:1] in ("\n", "\r")
            if kind == "text":
                out.append(escape_role_lines(escape_literal(text)))
            elif kind == "var":
                out.append("{{ " + text + " }}")
            elif kind == "role":
                done = "".join(out)
                out.append(("" if done.endswith("\n") or not done else "\n") + f"{text}:\n")
            else:
                done = "".join(out)
                line = done.rsplit("\n", 1)[-1]
                lead = "+" if line and not line.strip(" \t") else ""
                tail = "+" if after_newline else ""
                # A standalone tag gets its own line back: our trim_blocks and lstrip_blocks drop it again.
                own_line = standalone and not line
                newline, tail = ("\n", "") if own_line else ("", tail)
                if kind == "comment":
                    # A comment Jinja cannot hold leaves an empty one: dropped, it could glue the text around it
                    # into a role-marker line ("user{{! #} }}:").
                    text = "" if "#}" in text else text
                    out.append("{#" + lead + " " + text + " " + tail + "#}" + newline)
                else:
                    out.append("{%" + lead + " " + text + " " + tail + "%}" + newline)
        return "".join(out)


def _translate(tokens: list[Token], partial_name: Callable[[str], str | None]) -> Translation:
    translator = _Translator(partial_name)
    for token in tokens:
        if isinstance(token, str):
            translator.items.append(("text", token, False))
        else:
            translator.tag(token)
    for kind in reversed(translator.stack):
        translator.items.append(("block", "endfor" if kind == "each" else "endif", False))
        translator.result.problems.append(f"'{{{{#{kind}}}}}' is never closed; closed at the end")
    translator.result.body = translator.render()
    result = translator.result
    result.structured |= result.conditions - result.printed  # only tested: true/false, a list, … any JSON value
    return result


def to_jinja(source: str, partial_name: Callable[[str], str | None]) -> Translation:
    """Translate a Handlebars body; ``partial_name`` maps a Handlebars partial name to ours (None: unknown).

    A first pass finds the tags kept literal: their lines are kept whole, not dropped as standalone.
    """
    tokens = tokenize(source)
    _translate(tokens, partial_name)
    return _translate(_apply_whitespace(tokens), partial_name)
