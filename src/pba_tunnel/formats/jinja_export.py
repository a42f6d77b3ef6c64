"""Our Jinja body as Handlebars (Dotprompt) or as Langfuse's ``{{variable}}`` text, for the subset that maps.

The body is read with our own lexer, so the text between tags is what renders (``trim_blocks`` and
``lstrip_blocks`` already applied). Translated for Handlebars: ``{{ a.b }}``, ``{% if %}``/``elif``/``else``
(``if not x`` as ``{{#unless}}``), ``{% for x in xs %}`` (``loop.index0``/``first``/``last``), partial
includes and comments; for Langfuse only ``{{ name }}``. Any other construct is written as its literal Jinja
text and reported, as is text the target would misread (a literal ``{{`` in Langfuse, a line Handlebars
would drop as "standalone").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from jinja2 import Environment

from ..templates.partials import PARTIALS_PREFIX
from ..templates.variables import SYNTAX_OPTIONS

_OURS = Environment(**{k: v for k, v in SYNTAX_OPTIONS.items() if k != "undefined"})
_LOOP = {"index0": "@index", "first": "@first", "last": "@last"}
_HELPERS = ("if", "unless", "ifEquals", "unlessEquals")  # Dotprompt's block helpers an if test becomes


def _hbs_literal(word: tuple[str, str]) -> str | None:
    """A Jinja literal as Handlebars: a string without escapes, a number, true/false/none."""
    kind, value = word
    if kind == "string" and "\\" not in value and value[0] not in value[1:-1]:
        return value
    if kind in ("integer", "float"):
        return value
    return {"true": "true", "false": "false", "none": "null"}.get(value) if kind == "name" else None


@dataclass
class Exported:
    """The translated body and what could not be translated."""

    text: str = ""
    problems: list[str] = field(default_factory=list)


@dataclass
class _Tag:
    kind: str  # variable, block, comment
    raw: str
    words: list[tuple[str, str]]  # (token type, value), whitespace left out


def _items(source: str) -> list[str | _Tag]:
    items: list[str | _Tag] = []
    current: _Tag | None = None
    in_raw = False
    for _line, kind, value in _OURS.lex(source):
        if kind == "raw_begin":
            in_raw = True
        elif kind == "raw_end":
            in_raw = False
        elif in_raw or kind == "data":
            items.append(value)
        elif kind.endswith("_begin"):
            current = _Tag(kind[: -len("_begin")], value, [])
        elif current is not None and kind.endswith("_end"):
            current.raw += value.rstrip("\n")  # trim_blocks puts the newline it swallows into the end token
            items.append(current)
            current = None
        elif current is not None:
            current.raw += value
            if kind != "whitespace":
                current.words.append((kind, value))
    return items


class _Writer:
    def __init__(self, dialect: str, arguments: set[str] | None, references: dict[str, str]) -> None:
        self.references = references
        self.dialect = dialect
        self.arguments = arguments
        self.loops: list[str] = []
        self.stack: list[str] = []
        self.out: list[str] = []
        self.result = Exported()

    def path(self, words: list[tuple[str, str]]) -> str | None:
        if not words or words[0][0] != "name" or len(words) % 2 == 0:
            return None
        names = [words[0][1]]
        for index in range(1, len(words), 2):
            if words[index] != ("operator", ".") or words[index + 1][0] != "name":
                return None
            names.append(words[index + 1][1])
        if self.dialect == "langfuse":
            return names[0] if len(names) == 1 and self.is_argument(names[0]) else None
        head = names[0]
        if head == "loop" and self.loops and len(names) == 2 and names[1] in _LOOP:
            return _LOOP[names[1]]
        if head in self.loops:
            up = len(self.loops) - 1 - self.loops[::-1].index(head) if head in self.loops else 0
            prefix = "../" * (len(self.loops) - 1 - up)
            return prefix + ".".join(["this", *names[1:]])
        if self.is_argument(head):
            return ("@root." if self.loops else "") + ".".join(names)
        return None

    def is_argument(self, name: str) -> bool:
        """A declared argument (any name, in a partial: its includers declare them)."""
        return name in self.arguments if self.arguments is not None else name not in ("loop", "true", "false", "none")

    def literal(self, tag: _Tag, why: str) -> None:
        self.result.problems.append(f"{tag.raw!r}: {why}; written as literal text")
        self.text(tag.raw)

    def text(self, text: str) -> None:
        if self.dialect == "langfuse":
            if "{{" in text:
                self.result.problems.append(
                    f"text {text.strip()[:40]!r} holds '{{{{', which Langfuse reads as a variable"
                )
            self.out.append(text)
        else:
            self.out.append(re.sub(r"(\\*)\{\{", lambda m: m.group(1) * 2 + "\\{{", text))

    def tag(self, tag: _Tag) -> None:
        if tag.kind == "comment":
            if self.dialect == "handlebars" and "--}}" not in tag.raw:
                body = tag.raw[2:-2].strip("+- ")
                self.out.append("{{!-- " + body + " --}}")
            else:
                self.result.problems.append(f"comment {tag.raw!r} dropped (no comments in this format)")
            return
        if tag.kind == "variable":
            path = self.path(tag.words)
            if path is None:
                self.literal(tag, "this expression has no equivalent")
            else:
                self.out.append("{{" + path + "}}")
            return
        if self.dialect == "langfuse":
            reference = _langfuse_reference(tag.words, self.references)
            if reference is None:
                self.literal(tag, "Langfuse prompts have no logic")
            else:
                self.out.append(reference)
            return
        self.block(tag)

    def test(self, words: list[tuple[str, str]]) -> tuple[str, str] | None:
        """(Handlebars helper, its arguments) for an ``if`` test we translate, or None."""
        if words[:1] == [("name", "not")]:
            path = self.path(words[1:])
            return None if path is None else ("unless", path)
        for index, word in enumerate(words):
            if word in (("operator", "=="), ("operator", "!=")) and len(words) == index + 2:
                path, literal = self.path(words[:index]), _hbs_literal(words[index + 1])
                if path is None or literal is None:
                    return None
                return ("ifEquals" if word[1] == "==" else "unlessEquals", f"{path} {literal}")
        path = self.path(words)
        return None if path is None else ("if", path)

    def block(self, tag: _Tag) -> None:
        words = tag.words
        head = words[0][1] if words else ""
        top = self.stack[-1] if self.stack else None
        if head == "if" or (head == "elif" and top in _HELPERS):
            test = self.test(words[1:])
            if test is None:
                return self.open_literal(tag, head)
            if head == "elif":
                self.out.append("{{else " + test[0] + " " + test[1] + "}}")
            else:
                self.out.append("{{#" + test[0] + " " + test[1] + "}}")
                self.stack.append(test[0])
        elif head == "else" and top in (*_HELPERS, "each"):
            self.out.append("{{else}}")
        elif head in ("endif", "endfor") and top in (*_HELPERS, "each"):
            self.stack.pop()
            if top == "each":
                self.loops.pop()
            self.out.append("{{/" + str(top) + "}}")
        elif head == "for" and len(words) >= 4 and words[1][0] == "name" and words[2] == ("name", "in"):
            iterable = words[3:]
            if iterable[-3:] == [("name", "or"), ("operator", "["), ("operator", "]")]:
                iterable = iterable[:-3]  # "xs or []": what an import writes for Handlebars' {{#each xs}}
            path = self.path(iterable)
            if path is None:
                return self.open_literal(tag, head)
            self.out.append("{{#each " + path + "}}")
            self.stack.append("each")
            self.loops.append(words[1][1])
        elif head == "include" and len(words) == 2 and words[1][0] == "string":
            name = words[1][1][1:-1]
            if not name.startswith(PARTIALS_PREFIX):
                return self.literal(tag, "an include of something other than a partial")
            self.out.append("{{> " + name[len(PARTIALS_PREFIX) :] + "}}")
        elif head in ("elif", "else", "endif", "endfor") and top == "literal":
            if head in ("endif", "endfor"):
                self.stack.pop()
            self.text(tag.raw)
        else:
            self.open_literal(tag, head)
        return None

    def open_literal(self, tag: _Tag, head: str) -> None:
        self.literal(tag, f"the statement '{head}' has no equivalent")
        if head in ("if", "for"):
            self.stack.append("literal")


def _langfuse_reference(words: list[tuple[str, str]], references: dict[str, str]) -> str | None:
    """``@@@langfusePrompt:…@@@`` for an include of a partial an import made from a reference."""
    if len(words) != 2 or words[0] != ("name", "include") or words[1][0] != "string":
        return None
    name = words[1][1][1:-1]
    if isinstance(references.get(name), str):
        return f"@@@langfusePrompt:{references[name]}@@@"
    match = re.fullmatch(rf"{PARTIALS_PREFIX}langfuse/(.+)-v(\d+)", name)
    return f"@@@langfusePrompt:name={match.group(1)}|version={match.group(2)}@@@" if match else None


_STANDALONE = re.compile(r"(?m)(?<!\\)^([ \t]*)(\{\{(?:#|/|else\b|>|!)[^}]*\}\})[ \t]*(\r?\n|\Z)")


def _keep_standalone_whitespace(text: str, problems: list[str]) -> str:
    """Handlebars drops a line holding only a block tag (its indent and newline): give back the newline."""

    def fix(match: re.Match[str]) -> str:
        if match.group(1):
            problems.append(f"the indent before {match.group(2)!r} is dropped by Handlebars (a standalone tag)")
        return match.group(0) + match.group(3)  # Handlebars eats one newline: write two

    return _STANDALONE.sub(fix, text)


def export_body(
    source: str, dialect: str, arguments: set[str] | None, references: dict[str, str] | None = None
) -> Exported:
    """``source`` (one message part of our Jinja) in ``dialect`` (``handlebars`` or ``langfuse``)."""
    writer = _Writer(dialect, arguments, references or {})
    for item in _items(source):
        if isinstance(item, str):
            writer.text(item)
        else:
            writer.tag(item)
    writer.result.text = "".join(writer.out)
    if dialect == "handlebars":
        writer.result.text = _keep_standalone_whitespace(writer.result.text, writer.result.problems)
    return writer.result
