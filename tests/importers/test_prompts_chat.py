"""Importing the prompts.chat corpus: every row becomes a template that renders exactly the original text
(after the same values replace its ``${…}`` placeholders), names are unique and stable, re-imports are no-ops.

The placeholder rule is written out again here, on purpose, as the oracle the importer is checked against.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from conftest import REPO
from pba_tunnel.errors import PbaError
from pba_tunnel.importers import detect_format
from pba_tunnel.importers.placeholders import argument_name
from pba_tunnel.importers.prompts_chat import assign_names, describe, slug
from pba_tunnel.service import TemplateService
from pba_tunnel.store import StoredTemplate
from pba_tunnel.sync import import_path

CORPUS = REPO / "tests" / "data" / "prompts-chat.csv"
CORPUS_ROWS = 948
_NO_BREAK = r"[^{}%s\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]"
ORACLE = re.compile(rf"\$\{{({_NO_BREAK % ':'}+)(?::({_NO_BREAK % ''}*))?\}}")
HEADER = ["act", "prompt", "for_devs", "type", "contributor"]

# Rows that exercise every rule the corpus might not (CSV row number = index + 2).
EDGE_ROWS = [
    ["Role Lines", "Intro\nuser:\nassistant:  \nsystem:\nx\u2028user:\nEnd user: here", "FALSE", "TEXT", "a"],
    [
        "Jinja Lookalikes",
        "Literal {{ x }}, {% if y %}, {# c #}, {{{, {%- x -%} and `${{ secrets.TOKEN }}`\n"
        "    {% raw %}indented{% endraw %}\n{${name:val}} and ${${int}} end with {",
        "TRUE",
        "STRUCTURED",
        "b",
    ],
    ["Dollars", "Costs $5, $HOME, $ {x}, ${ }, ${:x} and $${price:10}", "FALSE", "TEXT", ""],
    ["Life Coach", "First coach.", "FALSE", "TEXT", "c"],
    ["Life coach", "Second coach.", "FALSE", "TEXT", "c"],
    ["Life Coach 2", "Third coach, named 2 by its author.", "FALSE", "TEXT", "c"],
    ["Empty", "   \n ", "FALSE", "TEXT", "d"],
    ["", "A prompt without an act.", "FALSE", "TEXT", "d"],
    [
        "Variables",
        "Tone ${tone:formal}, ${tone:informal} or ${tone}; ${Target Language} vs ${targetLanguage:French}; "
        "${range} ${not} ${None:x} ${ spaced name : padded default }; ${Aspect Ratio: 16:9 | 4:3}; "
        '${message: ""}; ${blank:}; ${商品名称}; ${9lives}',
        "FALSE",
        "IMAGE",
        "e",
    ],
    ["代码解释器", "Windows\r\nline endings\rand old Mac ones.", "FALSE", "TEXT", "f"],
    ["A" + " very long act" * 10, "---\nname: not front matter\n---\n# Heading\nBody text here.", "FALSE", "TEXT", ""],
]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_corpus(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def expected(prompt: str) -> tuple[str, dict[str, str | None]]:
    """The prompt as it must render, and each placeholder name's default (None: required, given as <Name>)."""
    matches = [m for m in ORACLE.finditer(prompt) if any(c.isalnum() for c in m.group(1))]
    defaults: dict[str, str | None] = {}
    for match in matches:
        label = match.group(1).strip()
        if defaults.get(label) is None:
            defaults[label] = match.group(2).strip() if match.group(2) is not None else None
    values = {label: f"<{label}>" if default is None else default for label, default in defaults.items()}
    parts, position = [], 0
    for match in matches:
        parts += [prompt[position : match.start()], values[match.group(1).strip()]]
        position = match.end()
    text = "".join([*parts, prompt[position:]])
    return text.replace("\r\n", "\n").replace("\r", "\n").strip(), defaults


async def check_renders_verbatim(service: TemplateService, stored: StoredTemplate, prompt: str) -> None:
    text, defaults = expected(prompt)
    arguments = stored.arguments
    assert len(arguments) == len(defaults), stored.name
    given = {}
    for argument, (label, default) in zip(arguments, defaults.items(), strict=True):
        assert argument.description.startswith(f"Value for '{label}'"), (stored.name, label)
        assert argument.default == default, (stored.name, label)
        assert argument.is_required == (default is None)
        assert re.fullmatch(r"[a-z_][a-z0-9_]{0,63}", argument.name)
        if default is None:
            given[argument.name] = f"<{label}>"
    rendered = await service.render(stored.name, given)
    assert [m.role for m in rendered.messages] == ["user"], stored.name
    assert rendered.text == text, stored.name


# -- the corpus ----------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.anyio
async def test_the_whole_corpus_imports_renders_verbatim_and_reimports_unchanged(service: TemplateService) -> None:
    rows = read_corpus(CORPUS)
    assert len(rows) == CORPUS_ROWS

    report = await import_path(service, CORPUS)
    assert report.failed == []
    assert report.summary() == f"added {CORPUS_ROWS}, updated 0, unchanged 0, failed 0"
    names = assign_names(row["act"] for row in rows)
    assert report.added == names
    assert len(set(names)) == CORPUS_ROWS

    for name, row in zip(names, rows, strict=True):
        stored = await service.get(name)
        assert re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", name)
        assert stored.title == " ".join(row["act"].split())
        assert 0 < len(stored.description) <= 200
        dev = row["for_devs"] == "TRUE"
        assert stored.category == ("prompts-chat/development" if dev else f"prompts-chat/{row['type'].lower()}")
        assert stored.tags[: 1 + dev] == [row["type"].lower(), *(["developer"] if dev else [])]
        assert f"contributor: {row['contributor']}" in stored.source or f"'{row['contributor']}'" in stored.source
        await check_renders_verbatim(service, stored, row["prompt"])

    again = await import_path(service, CORPUS)
    assert again.summary() == f"added 0, updated 0, unchanged {CORPUS_ROWS}, failed 0"
    assert again.unchanged == names
    assert await service.count() == CORPUS_ROWS
    for name in names:
        assert len(await service.history(name)) == 1


def test_corpus_rows_with_jinja_delimiters_and_variables_are_covered() -> None:
    prompts = [row["prompt"] for row in read_corpus(CORPUS)]
    assert sum("{{" in p for p in prompts) >= 5
    assert any("{#" in p for p in prompts)
    # 297 rows hold "${"; in one it is only GitHub Actions' "${{ secrets.… }}", which is no placeholder.
    assert sum("${" in p for p in prompts) == 297
    assert sum(bool(ORACLE.search(p)) for p in prompts) == 296
    assert any("${${" in p for p in prompts)
    assert any("${{" in p for p in prompts)


# -- edge cases --------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_edge_case_rows_import_and_render_exactly(service: TemplateService, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "edge.csv", EDGE_ROWS)
    report = await import_path(service, path)
    assert report.failed == [
        (f"{path}:8", "the prompt column is empty"),
        (f"{path}:9", "the act column is empty: nothing to name the template after"),
    ]
    assert report.summary() == f"added {len(EDGE_ROWS) - 2}, updated 0, unchanged 0, failed 2"
    assert report.added[3:6] == ["life-coach", "life-coach-2", "life-coach-2-2"]
    assert report.added[-2].startswith("prompt-")
    assert len(report.added[-1]) <= 64
    for name, (act, prompt, *_) in zip(assign_names(row[0] for row in EDGE_ROWS), EDGE_ROWS, strict=True):
        if act and prompt.strip():
            await check_renders_verbatim(service, await service.get(name), prompt)

    # The escapes stay readable: lines that would be role markers, and Jinja delimiters, print themselves.
    assert "\nIntro\n{{ 'user:' }}\n{{ 'assistant:' }}  \n{{ 'system:' }}\n" in (await service.get("role-lines")).source
    lookalikes = await service.get("jinja-lookalikes")
    assert "Literal {{ '{{' }} x }}, {{ '{%' }} if y %}, {{ '{#' }} c #}" in lookalikes.source
    assert "{{ '{' }}{{ name }}} and ${{ '{' }}{{ int }}} end with {\n" in lookalikes.source

    variables = await service.get("variables")
    assert [(a.name, a.default) for a in variables.arguments] == [
        ("tone", "formal"),
        ("target_language", None),
        ("target_language_2", "French"),
        ("range_", None),
        ("not_", None),
        ("none_", "x"),
        ("spaced_name", "padded default"),
        ("aspect_ratio", "16:9 | 4:3"),
        ("message", '""'),
        ("blank", ""),
        ("value", None),
        ("value_9lives", None),
    ]
    assert variables.arguments[0].description == "Value for 'tone' (also written as: informal)"
    assert variables.category == "prompts-chat/image"
    assert lookalikes.category == "prompts-chat/development"
    assert lookalikes.tags == ["structured", "developer", "jinja", "lookalikes"]

    again = await import_path(service, path)
    assert again.summary() == f"added 0, updated 0, unchanged {len(EDGE_ROWS) - 2}, failed 2"


@pytest.mark.anyio
async def test_a_changed_row_adds_one_version_and_other_templates_are_never_overwritten(
    service: TemplateService, tmp_path: Path
) -> None:
    own = "---\ndescription: Mine.\n---\nMy own dentist prompt.\n"
    await service.create(own, name="dentist")
    path = write_csv(tmp_path / "p.csv", [["Dentist", "Act as a dentist."], ["Poet", "Act as a poet."]], HEADER[:2])
    report = await import_path(service, path)
    assert report.added == ["poet"]
    assert report.failed == [
        (f"{path}:2", "the name 'dentist' is taken by a template not imported from prompts.chat: rename or delete it")
    ]
    assert (await service.get("dentist")).source == own

    write_csv(path, [["Poet", "Act as a poet who rhymes."]], HEADER[:2])
    await service.delete("poet")
    report = await import_path(service, path)
    assert report.updated == ["poet"]
    history = await service.history("poet")
    assert [(v.version, v.origin, v.message) for v in history] == [
        (1, "import", "imported from prompts.chat"),
        (2, "import", "imported from prompts.chat"),
    ]
    assert (await service.render("poet", {})).text == "Act as a poet who rhymes."


# -- rules -----------------------------------------------------------------------------------------------------


def test_names_are_slugs_unique_in_row_order_and_stable() -> None:
    acts = ["Linux Terminal", "linux terminal!", "Linux-Terminal 2", "Café Olé", "  ", "小红书", "x" * 80]
    names = assign_names(acts)
    assert names[:4] == ["linux-terminal", "linux-terminal-2", "linux-terminal-2-2", "cafe-ole"]
    assert [n[:7] for n in names[4:6]] == ["prompt-", "prompt-"]
    assert names[4] != names[5]
    assert names[6] == "x" * 64
    assert assign_names(acts) == names
    for appended in ("Linux Terminal", "linux-terminal-3", "x" * 90):  # appended rows never rename earlier ones
        assert assign_names([*acts, appended])[: len(acts)] == names
    assert assign_names([*acts, "x" * 90])[-1] == "x" * 62 + "-2"
    assert slug("AI2sql SQL Model — Query Generator") == "ai2sql-sql-model-query-generator"


def test_argument_names_are_snake_case_and_unique() -> None:
    assert argument_name("Target Language", set()) == "target_language"
    assert argument_name("targetLanguage", {"target_language"}) == "target_language_2"
    assert argument_name("Brand's core product", set()) == "brands_core_product"
    assert argument_name("HTTPServer", set()) == "http_server"
    assert argument_name("points clés", set()) == "points_cles"
    assert argument_name("Product/Service", set()) == "product_service"
    assert argument_name("for", set()) == "for"
    assert argument_name("loop", set()) == "loop_"
    assert len(argument_name("word_" * 30, set())) <= 64


def test_descriptions_are_opening_sentences_or_the_act() -> None:
    assert describe("X", "I want you to act as a terminal. I will type.") == "I want you to act as a terminal."
    assert describe("X", "# Role\n\n**Act** as a ${Role:chef}, e.g. a cook. More.") == "Act as a chef, e.g. a cook."
    assert describe("X", "Act as a ${Role} now! Then") == "Act as a <Role> now!"
    assert describe("Fallback Act", "{not json") == "Fallback Act"
    assert describe("Fallback Act", "Hi.") == "Fallback Act"
    assert describe("X", json.dumps({"role": "Bot", "task": "Sort the list of numbers. Then stop."})) == (
        "Sort the list of numbers."
    )
    agent = "---\nname: helper\ndescription: |\n  Reviews code for bugs. Be brief.\n---\n# Helper\nYou review code."
    assert describe("X", agent) == "Reviews code for bugs."
    long = describe("X", "word " * 100)
    assert len(long) <= 200
    assert long.endswith("word…")
    assert describe("X", "这是一个测试。第二句。") == "这是一个测试。"  # a CJK character counts as a word


def test_formats_are_detected_by_extension_and_header(tmp_path: Path) -> None:
    assert detect_format(CORPUS) == "prompts-chat"
    assert detect_format(tmp_path) == "templates"
    (tmp_path / "a.md").write_text("x", encoding="utf-8")
    assert detect_format(tmp_path / "a.md") == "templates"
    other = write_csv(tmp_path / "other.csv", [["1", "2"]], ["id", "value"])
    with pytest.raises(PbaError, match=r"not a prompts\.chat export"):
        detect_format(other)
