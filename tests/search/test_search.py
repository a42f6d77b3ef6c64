"""Search through the service over a real store with the starter library: SQLite (FTS5) and PostgreSQL (tsvector)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import anyio
import pytest

from conftest import make_settings, template_source
from pba_tunnel.config import Settings
from pba_tunnel.search.query import QueryError
from pba_tunnel.service import TemplateService
from pba_tunnel.startup import open_service

pytestmark = pytest.mark.anyio

HOSTILE = [
    'a" OR "b',
    "NEAR(a b, 2)",
    "a AND",
    "OR",
    "(((",
    ")))",
    "^start",
    "col:value",
    "name:code",
    '"',
    '""',
    "'",
    "*",
    "a*b*",
    "-",
    "--",
    "a - b",
    "\\",
    "%",
    "_",
    "a%b_c",
    "NOT",
    "a NOT",
    "\x00",
    "emoji 🚀 search",
    "日本語 テスト",
    "x" * 500,
    "{{ code }}",
    "'; DROP TABLE templates; --",
]


@pytest.fixture
def settings(home: Path, backend_env: dict[str, str]) -> Settings:
    """An unseeded store on each backend."""
    return make_settings(home, **backend_env)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def seeded_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One store seeded with the starter library per backend, shared by this module's read-only tests."""
    env = {}
    if request.param == "postgresql":
        env["PBA_TUNNEL_DATABASE_URL"] = request.getfixturevalue("postgres_server").create_database("seeded")
    settings = make_settings(tmp_path_factory.mktemp("seeded"), seed=True, **env)

    async def seed() -> None:
        await (await open_service(settings)).close()

    anyio.run(seed)
    return settings


@pytest.fixture
async def seeded(seeded_store: Settings) -> TemplateService:  # type: ignore[misc]
    service = await open_service(seeded_store)
    try:
        yield service
    finally:
        await service.close()


async def names(service: TemplateService, query: str, **kwargs: object) -> list[str]:
    """Names found by their words (similar-name suggestions left out)."""
    found = await service.search(query, **kwargs)  # type: ignore[arg-type]
    return [hit.name for hit in found.results if not hit.fuzzy]


async def test_the_named_template_comes_first_with_where_it_matched(seeded: TemplateService) -> None:
    found = await seeded.search("code review", limit=3)
    assert found.mode == "all"
    assert found.notice is None
    top = found.results[0]
    assert (top.name, top.fuzzy) == ("code-review", False)
    assert {"name", "title"} <= set(top.matched)
    assert "**" in top.snippet


async def test_prefix_matches_word_beginnings(seeded: TemplateService) -> None:
    assert "code-review" in await names(seeded, "revi*", limit=10)


async def test_excluded_words_remove_templates(seeded: TemplateService) -> None:
    with_word = await names(seeded, "review", limit=50)
    without = await names(seeded, "review -security", limit=50)
    assert "security-review" in with_word
    assert "security-review" not in without
    assert set(without) < set(with_word)


async def test_category_and_tag_filters(seeded: TemplateService) -> None:
    in_security = await names(seeded, "category:security review", limit=20)
    assert in_security == ["security-review"]
    tagged = await names(seeded, "tag:sql", limit=20)
    assert tagged
    for name in tagged:
        assert "sql" in (await seeded.get(name)).tags
    assert await names(seeded, "review", category="security", limit=20) == in_security


async def test_when_nothing_matches_every_word_it_falls_back_to_any_and_says_so(seeded: TemplateService) -> None:
    found = await seeded.search("postmortem zebra", limit=3)
    assert found.mode == "any"
    assert found.notice == "no template contains all of postmortem, zebra; showing templates that contain any of them"
    assert found.results[0].name == "incident-postmortem"


async def test_typos_fall_back_to_similar_names_marked_fuzzy(seeded: TemplateService) -> None:
    found = await seeded.search("reveiw cod", limit=3)
    assert found.mode == "fuzzy"
    assert found.notice == "nothing contains these words; showing templates whose name or title looks similar"
    assert found.results[0].name == "code-review"
    assert all(hit.fuzzy for hit in found.results)


async def test_typo_suggestions_leave_out_internal_and_deleted_templates(service: TemplateService) -> None:
    await service.create(template_source(), name="quokka-notes")
    await service.create(template_source(extra="internal: true\n"), name="quokka-secret")
    await service.create(template_source(), name="quokka-gone")
    await service.delete("quokka-gone")
    found = await service.search("quoka", limit=5)
    assert (found.mode, [hit.name for hit in found.results]) == ("fuzzy", ["quokka-notes"])


async def test_nothing_found_is_an_empty_result(seeded: TemplateService) -> None:
    found = await seeded.search("xyzzyplugh", limit=5)
    assert (found.mode, found.results) == ("all", [])


async def test_hostile_queries_never_reach_the_database_as_syntax(seeded: TemplateService) -> None:
    for query in HOSTILE:
        with contextlib.suppress(QueryError):  # a clear error is fine; a database error or a traceback is not
            await seeded.search(query, limit=5)
    assert (await seeded.search("code review")).results  # and the store is still fine


async def test_the_index_follows_every_write(service: TemplateService) -> None:
    source = template_source(description="Explains the quokkafish protocol.")
    await service.create(source, name="quokka")
    assert await names(service, "quokkafish") == ["quokka"]

    await service.update("quokka", template_source(description="Explains the wombat protocol."))
    assert (await names(service, "quokkafish"), await names(service, "wombat")) == ([], ["quokka"])

    await service.delete("quokka")
    assert await names(service, "wombat") == []
    await service.restore("quokka")
    assert await names(service, "wombat") == ["quokka"]

    await service.rollback("quokka", 1)
    assert await names(service, "quokkafish") == ["quokka"]
    assert await service.reindex() == 1
    assert await names(service, "quokkafish") == ["quokka"]


async def test_words_from_each_field_are_found(service: TemplateService) -> None:
    source = (
        "---\ntitle: Zebra title\ndescription: Yak description.\ntags: [walrus]\narguments:\n"
        "  - name: narwhal_count\n    description: How many\n---\nuser:\nOcelot body {{ narwhal_count }}\n"
    )
    await service.create(source, name="fields", category="lemur")
    for word, field in [
        ("zebra", "title"),
        ("yak", "description"),
        ("walrus", "tags"),
        ("narwhal", "arguments"),
        ("ocelot", "body"),
        ("lemur", "category"),
        ("fields", "name"),
    ]:
        (hit,) = (await service.search(word)).results
        assert field in hit.matched, (word, hit.matched)


def test_the_cli_searches_and_reports_bad_queries_in_one_line(cli) -> None:  # type: ignore[no-untyped-def]
    found = cli("search", "code", "review", "--json", "--limit", "2")
    assert found.returncode == 0, found.stderr
    payload = json.loads(found.stdout)
    assert payload["results"][0]["name"] == "code-review"
    assert payload["mode"] == "all"
    bad = cli("search", "--", "-draft")
    assert (bad.returncode, bad.stdout) == (1, "")
    assert (
        bad.stderr == "error: a query of exclusions only matches nothing: add a word to look for, e.g. review -draft\n"
    )
