"""Rows of the prompts.chat CSV (``act,prompt[,for_devs,type,contributor]``) as template sources.

Every rule is deterministic, so importing the same file again yields byte-identical sources (no new versions):

- **Rows** are numbered as a spreadsheet shows them: the header is row 1, the first prompt row 2. Line breaks
  in the prompt are normalised to ``\\n`` (Jinja would do it at render time anyway); outer whitespace is
  dropped. A row with an empty ``act`` or ``prompt`` is not imported (reported as failed).
- **name**: the ``act`` folded to ASCII, lowercased, runs of other characters turned into ``-``, cut to 64
  characters at a ``-``; an act with no ASCII letter or digit (e.g. Chinese) becomes ``prompt-<8 hex of its
  SHA-1>``. Duplicates (``Life Coach`` / ``Life coach``) get the first free ``-2``, ``-3``, … in row order,
  so a name depends only on the rows above it: rows appended to the file never rename earlier ones.
- **title**: the ``act`` with whitespace collapsed (at most 200 characters).
- **description**: the opening sentence of the prompt: among its first three lines of prose (Markdown
  headings, rules, fences, table rows and lines opening with a bracket skipped; list/quote markers, emphasis
  and link targets removed; placeholders shown as their default or ``<Name>``), the first whose text up to
  the first ``.``, ``!`` or ``?`` before a space (not after "e.g." and the like) or CJK full stop has three
  words or more (a CJK character counts as a word). A JSON prompt uses instead its top-level
  ``description``, ``prompt``, ``task``, ``objective``, ``purpose``, ``context`` or ``role`` string (in that
  order of preference), a prompt opening with YAML front matter (an agent file) its ``description`` first.
  Cut to 200 characters at a word boundary with ``…``; the act when nothing qualifies.
- **category**: ``prompts-chat/development`` when ``for_devs`` is true (the corpus's only subject signal,
  and the one this tool's users filter by), otherwise ``prompts-chat/<type>``: ``text``, ``structured`` or
  ``image``. No guessing of subjects from words: a wrong category is worse than a broad one.
- **tags**: the type (``text``/``structured``/``image``), ``developer`` when ``for_devs``, then up to three
  words of the act (ASCII, 3 to 30 characters, not stop words like "act", "expert", "assistant").
- **metadata**: ``source: prompts.chat``, ``contributor``, ``license: CC0-1.0``; the importer only updates
  templates whose metadata says they came from prompts.chat.
- **arguments** and **body**: see :mod:`pba_tunnel.importers.placeholders`.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import PbaError
from ..templates.bounded_yaml import load_bounded
from .placeholders import fill, to_jinja

SOURCE = "prompts.chat"
LICENSE = "CC0-1.0"
CATEGORY_PREFIX = "prompts-chat"
REQUIRED_COLUMNS = ("act", "prompt")
MAX_NAME = 64
MAX_DESCRIPTION = 200
_TRUE = {"true", "1", "yes", "y"}
_STOP_WORDS = frozenset(
    {
        "a", "an", "and", "the", "of", "for", "to", "in", "on", "with", "as", "by", "from", "into", "your", "my",
        "our", "you", "act", "acting", "expert", "assistant", "prompt", "prompts", "generator", "creator", "ai",
        "gpt", "chatgpt", "professional", "advanced", "ultimate", "helper", "tool", "agent", "style", "using",
    }
)  # fmt: skip
_ABBREVIATIONS = frozenset({"e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "st", "no", "approx", "incl"})
# ".", "!" or "?" before a space (closing quotes/brackets allowed in between), or a CJK full stop/mark.
_SENTENCE_END = re.compile("[.!?](?=[\"'\u201d\u2019)\\]]*(?:\\s|$))|[\u3002\uff01\uff1f]")
_MARKUP_PREFIX = re.compile(r"^(?:>\s*|[-*+•]\s+|\d+[.)]\s+|\[[ xX]\]\s+)+")
_CJK = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff"
_WORD = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+")  # scripts written without spaces: a character counts as a word
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_FRONT_MATTER = re.compile(r"---[ \t]*\n(.*?)\n---[ \t]*(?:\n|$)", re.DOTALL)
_JSON_KEYS = ("description", "prompt", "task", "objective", "purpose", "context", "role")


@dataclass(frozen=True)
class Row:
    """One prompt row of the CSV."""

    number: int  # spreadsheet row number: the header is row 1
    act: str
    prompt: str
    for_devs: bool = False
    type: str = ""
    contributor: str = ""


def read_rows(path: Path) -> list[Row]:
    """The rows of a prompts.chat CSV; PbaError when it cannot be read or lacks ``act``/``prompt``."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = [c.strip().lower() for c in reader.fieldnames or []]
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise PbaError(f"{path} is not a prompts.chat CSV: the header lacks the column(s) {', '.join(missing)}")
            reader.fieldnames = columns
            rows = []
            for index, record in enumerate(reader, start=2):
                rows.append(
                    Row(
                        number=index,
                        act=_cell(record, "act"),
                        prompt=_cell(record, "prompt"),
                        for_devs=_cell(record, "for_devs").strip().lower() in _TRUE,
                        type=_cell(record, "type").strip().lower(),
                        contributor=" ".join(_cell(record, "contributor").split()),
                    )
                )
            return rows
    except UnicodeDecodeError:
        raise PbaError(f"{path} is not UTF-8 text") from None
    except csv.Error as exc:
        raise PbaError(f"{path} is not valid CSV: {exc}") from None
    except OSError as exc:
        raise PbaError(f"cannot read {path}: {exc.strerror}") from None


def _cell(record: dict[str | Any, Any], column: str) -> str:
    value = record.get(column)
    return value if isinstance(value, str) else ""


# -- names ---------------------------------------------------------------------------------------------


def slug(act: str) -> str:
    """The template name an act asks for, before duplicates are numbered."""
    ascii_text = unicodedata.normalize("NFKD", act).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9]+", "-", re.sub("['`\u2019]", "", ascii_text)).strip("-")
    if not text:
        return f"prompt-{hashlib.sha1(act.strip().encode()).hexdigest()[:8]}"
    if len(text) > MAX_NAME:
        text = text[:MAX_NAME].rsplit("-", 1)[0]
    return text


def assign_names(acts: Iterable[str]) -> list[str]:
    """Unique names for ``acts`` in order: the first of equal slugs keeps it, later ones get ``-2``, ``-3``."""
    used: set[str] = set()
    names = []
    for base in map(slug, acts):
        name, number = base, 1
        while name in used:
            number += 1
            suffix = f"-{number}"
            name = base[: MAX_NAME - len(suffix)].rstrip("-") + suffix
        used.add(name)
        names.append(name)
    return names


# -- descriptive fields ----------------------------------------------------------------------------------


def _first_sentence(text: str) -> str:
    for match in _SENTENCE_END.finditer(text):
        before = text[: match.start()].rsplit(None, 1)
        if match.group(0) == "." and before and before[-1].lower().lstrip("(") in _ABBREVIATIONS:
            continue  # "e.g." ends no sentence
        return text[: match.end()]
    return text


def _prose_lines(text: str) -> Iterable[str]:
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "```", "---", "***", "===", "|", "<", "{", "[", "}", "]")):
            continue
        line = _LINK.sub(r"\1", _MARKUP_PREFIX.sub("", line)).replace("**", "").replace("__", "").replace("`", "")
        if any(c.isalnum() for c in line):
            yield line


def _shorten(text: str, limit: int = MAX_DESCRIPTION) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-\u2013\u2014") + "…"


def _json_texts(text: str) -> list[str]:
    """Top-level strings of a JSON prompt that may say what it is for, most telling key first."""
    try:
        data = json.loads(text)
    except ValueError:
        return []
    if isinstance(data, list) and data:
        data = data[0]
    if not isinstance(data, dict):
        return []
    values = {str(key).lower(): value for key, value in data.items()}
    return [values[key] for key in _JSON_KEYS if isinstance(values.get(key), str)]


def _front_matter(text: str) -> tuple[list[str], str]:
    """The ``description`` of a YAML front matter block the prompt opens with (agent files do), and the rest."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return [], text
    try:
        data = load_bounded(match.group(1))
    except (yaml.YAMLError, ValueError):  # ValueError: beyond the YAML bounds
        data = None
    found = data.get("description") if isinstance(data, dict) else None
    return ([found] if isinstance(found, str) else []), text[match.end() :]


def describe(act: str, prompt: str) -> str:
    """The description of a row: the prompt's opening sentence, or the act (see the module docstring)."""
    candidates, text = _front_matter(fill(prompt).strip())
    if text.lstrip().startswith(("{", "[")):
        candidates += _json_texts(text)
    else:
        candidates += itertools.islice(_prose_lines(text), 3)
    for candidate in candidates:
        sentence = " ".join(_first_sentence(" ".join(candidate.split())).split())
        if len(_WORD.findall(sentence)) >= 3:
            return _shorten(sentence)
    return _shorten(" ".join(act.split()))


def category(row: Row) -> str:
    """``prompts-chat/development`` for developer prompts, else ``prompts-chat/<type>``."""
    if row.for_devs:
        return f"{CATEGORY_PREFIX}/development"
    kind = re.sub(r"[^a-z0-9]+", "-", row.type).strip("-")[:64]
    return f"{CATEGORY_PREFIX}/{kind}" if kind else CATEGORY_PREFIX


def tags(row: Row) -> list[str]:
    """The type, ``developer`` for developer prompts, and up to three words of the act."""
    found = [row.type] if re.fullmatch(r"[a-z0-9-]{1,30}", row.type) else []
    if row.for_devs:
        found.append("developer")
    ascii_act = unicodedata.normalize("NFKD", row.act).encode("ascii", "ignore").decode().lower()
    words = [w for w in re.findall(r"[a-z][a-z0-9]+", ascii_act) if 3 <= len(w) <= 30 and w not in _STOP_WORDS]
    keywords = [w for w in dict.fromkeys(words) if w not in found][:3]
    return found + keywords


# -- the source ----------------------------------------------------------------------------------------


def template_source(row: Row, name: str) -> str:
    """The template file (YAML front matter + Jinja body) for ``row`` under ``name``; PbaError when empty."""
    if not row.act.strip():
        raise PbaError("the act column is empty: nothing to name the template after")
    text = row.prompt.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise PbaError("the prompt column is empty")
    body, variables = to_jinja(text)
    arguments: list[dict[str, str]] = []
    for variable in variables:
        argument = {"name": variable.name, "description": variable.description}
        if variable.default is not None:
            argument["default"] = variable.default
        arguments.append(argument)
    front: dict[str, Any] = {
        "name": name,
        "title": _shorten(" ".join(row.act.split())),
        "description": describe(row.act, text),
        "category": category(row),
        "tags": tags(row),
    }
    if arguments:
        front["arguments"] = arguments
    metadata = {"source": SOURCE}
    if row.contributor:
        metadata["contributor"] = row.contributor
    front["metadata"] = {**metadata, "license": LICENSE}
    # safe_dump quotes whatever needs quoting; a huge width keeps every value on one line.
    header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1_000_000)
    return f"---\n{header}---\n{body}\n"
