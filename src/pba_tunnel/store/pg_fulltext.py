"""Full-text search in PostgreSQL: a weighted tsvector per live prompt, kept by triggers, ranked with ts_rank.

``template_search`` holds one row per live prompt that is not internal: its document (a tsvector whose fields
carry weights A-D, the four classes PostgreSQL has for FTS5's seven column weights), its header (the same
without the body: small, cheap to rank) and its label (name and title, trigram-indexed for typo tolerance).
Triggers on ``templates`` and ``template_versions`` keep it in step with every write, by this package or any
other client of the database. The text search configuration
``pba_english`` stems like FTS5's porter tokenizer and, like it, keeps stop words (the query parser drops them).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from .fulltext import COLUMNS, MARK_END, MARK_START, RankedHit, readable_snippet
from .matching import TextMatch, tsquery_text

TABLE = "template_search"
CONFIG = "pba_english"
# Weight classes by field, following FTS5's weights (name 10, title 8, tags 6, description 4, category 3,
# arguments 2, body 1); ts_rank's array lists the classes D, C, B, A.
FIELD_CLASS = {
    "name": "A",
    "title": "A",
    "tags": "B",
    "description": "B",
    "category": "C",
    "arguments": "C",
    "body": "D",
}
RANK_WEIGHTS = "{0.1, 0.25, 0.5, 1.0}"
# ts_rank scores are about 30 times smaller than FTS5's weighted bm25; scaled, search's reranking by name and
# title coverage weighs the same against them on both databases.
SCORE_SCALE = 30.0

# The indexed text of each field, from a template row ``t`` and its current version ``v``: hyphens and
# underscores split words, tags and argument names come out of their JSON, the body follows the front matter.
_FIELDS = {
    "name": "replace(replace(t.name, '-', ' '), '_', ' ')",
    "title": "coalesce(t.title, '')",
    "description": "t.description",
    "tags": "coalesce((SELECT string_agg(x, ' ') FROM jsonb_array_elements_text(t.tags_json::jsonb) AS x), '')",
    "category": "replace(replace(coalesce(t.category, ''), '/', ' '), '-', ' ')",
    "arguments": "coalesce((SELECT string_agg(replace(a->>'name', '_', ' '), ' ') "
    "FROM jsonb_array_elements(t.arguments_json::jsonb) AS a), '')",
    "body": "CASE WHEN left(v.source, 4) = E'---\\n' AND strpos(substr(v.source, 5), E'\\n---') > 0 "
    "THEN substr(v.source, strpos(substr(v.source, 5), E'\\n---') + 9) ELSE v.source END",
}
assert tuple(_FIELDS) == COLUMNS
_HEADER = " || ".join(
    f"setweight(to_tsvector('{CONFIG}', {expression}), '{FIELD_CLASS[name]}')"
    for name, expression in _FIELDS.items()
    if name != "body"
)
_BODY = f"setweight(to_tsvector('{CONFIG}', {_FIELDS['body']}), '{FIELD_CLASS['body']}')"
_LABEL = f"lower({_FIELDS['name']} || ' ' || {_FIELDS['title']})"
_LIVE = (
    "FROM templates AS t JOIN template_versions AS v ON v.template_id = t.id AND v.version = t.current_version "
    "WHERE t.kind = 'prompt' AND t.deleted_at IS NULL AND NOT t.internal"
)


def _fill(condition: str = "") -> str:
    return (
        f"INSERT INTO {TABLE} (template_id, header, document, label) SELECT id, header, header || body, label "
        f"FROM (SELECT t.id, {_HEADER} AS header, {_BODY} AS body, {_LABEL} AS label {_LIVE}{condition}) AS fields"
    )


# The schema, created by migration 0005 (PostgreSQL only).
SCHEMA = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE TEXT SEARCH DICTIONARY pba_english_stem (TEMPLATE = snowball, LANGUAGE = english)",
    f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = english)",
    f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, "
    "hword, hword_part WITH pba_english_stem",
    # header: every field but the body, small, ranked for every match; document: all of them, matched through
    # its index and ranked for the best few only, so it is kept uncompressed and out of line.
    f"CREATE TABLE {TABLE} (template_id integer PRIMARY KEY REFERENCES templates (id) ON DELETE CASCADE, "
    "header tsvector NOT NULL, document tsvector NOT NULL, label text NOT NULL)",
    f"ALTER TABLE {TABLE} ALTER COLUMN document SET STORAGE EXTERNAL",
    f"CREATE INDEX ix_{TABLE}_document ON {TABLE} USING gin (document)",
    f"CREATE INDEX ix_{TABLE}_header ON {TABLE} USING gin (header)",
    f"CREATE INDEX ix_{TABLE}_label ON {TABLE} USING gin (label gin_trgm_ops)",
    f"""CREATE FUNCTION pba_search_refresh(tid integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {TABLE} WHERE template_id = tid;
    {_fill(" AND t.id = tid")};
END $$""",
    """CREATE FUNCTION pba_search_on_template() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pba_search_refresh(NEW.id);
    RETURN NULL;
END $$""",
    # A new version matters only when it is current already (a new template); an update moves the pointer after.
    """CREATE FUNCTION pba_search_on_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM templates WHERE id = NEW.template_id AND current_version = NEW.version) THEN
        PERFORM pba_search_refresh(NEW.template_id);
    END IF;
    RETURN NULL;
END $$""",
    "CREATE TRIGGER template_search_on_template AFTER INSERT OR UPDATE ON templates "
    "FOR EACH ROW EXECUTE FUNCTION pba_search_on_template()",
    "CREATE TRIGGER template_search_on_version AFTER INSERT ON template_versions "
    "FOR EACH ROW EXECUTE FUNCTION pba_search_on_version()",
    _fill(),
]
DROP = [
    "DROP TRIGGER IF EXISTS template_search_on_version ON template_versions",
    "DROP TRIGGER IF EXISTS template_search_on_template ON templates",
    "DROP FUNCTION IF EXISTS pba_search_on_version()",
    "DROP FUNCTION IF EXISTS pba_search_on_template()",
    "DROP FUNCTION IF EXISTS pba_search_refresh(integer)",
    f"DROP TABLE IF EXISTS {TABLE}",
    f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIG}",
    "DROP TEXT SEARCH DICTIONARY IF EXISTS pba_english_stem",
]

_QUERY = f"to_tsquery('{CONFIG}', :q)"
_ANY = f"to_tsquery('{CONFIG}', :any)"
_RANK = f"to_tsquery('{CONFIG}', :rank)"
_HEADLINE_OPTIONS = (
    f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=20, MinWords=8, MaxFragments=1, FragmentDelimiter=…"
)
# Fields a query word is in: the short ones parsed again, the body (the only class D field) read from the index.
_MATCHED = ", ".join(
    f"ts_filter(d.document, '{{d}}') @@ {_ANY}"
    if name == "body"
    else f"to_tsvector('{CONFIG}', {expression}) @@ {_ANY}"
    for name, expression in _FIELDS.items()
)
# The description around the match when it matches, else the body's best passage.
_SNIPPET = (
    f"CASE WHEN to_tsvector('{CONFIG}', t.description) @@ {_ANY} "
    f"THEN ts_headline('{CONFIG}', t.description, {_ANY}, :options) "
    f"ELSE ts_headline('{CONFIG}', {_FIELDS['body']}, {_ANY}, :options) END"
)
# Matches with a query word in their header (every field but the body) are ranked on it, and the best
# RANK_POOL of them on every field; matches in the body alone only fill the pool. Name, title, tags and
# description outweigh the body, so the best hits are among them, and a common word costs no more than
# ranking the headers that hold it.
RANK_POOL = 200
TRIGRAM_THRESHOLD = 0.3  # loose: search rescoring word by word decides what is similar enough


class PostgresFullText:
    """Queries over ``template_search``; the triggers do the indexing."""

    async def index(self, connection: AsyncConnection, template_id: int) -> None:
        """Nothing to do: the triggers reindexed the template in the writer's statement."""

    async def remove(self, connection: AsyncConnection, template_id: int) -> None:
        """Nothing to do: the triggers dropped the deleted template."""

    async def index_many(self, connection: AsyncConnection, template_ids: Sequence[int]) -> None:
        """Nothing to do: the triggers indexed each row as it was written."""

    async def remove_many(self, connection: AsyncConnection, template_ids: Sequence[int]) -> None:
        """Nothing to do: the triggers dropped each row as it changed."""

    async def rebuild(self, connection: AsyncConnection) -> int:
        """Empty the index and refill it from every live prompt, in one statement."""
        await connection.execute(text(f"DELETE FROM {TABLE}"))
        await connection.execute(text(_fill()))
        return int((await connection.execute(text(f"SELECT count(*) FROM {TABLE}"))).scalar_one())

    async def ranked(
        self,
        connection: AsyncConnection,
        match: TextMatch,
        *,
        categories: Sequence[str],
        tags: Sequence[str],
        limit: int,
    ) -> list[RankedHit]:
        """The best ``limit`` matches with matched fields and a snippet, in one statement."""
        # Exclusions filter but do not rank (ts_rank scores a negated query 0); any included word marks a field.
        params: dict[str, object] = {
            "q": tsquery_text(match),
            "rank": tsquery_text(TextMatch(match.included, (), match.any_word)),
            "any": tsquery_text(TextMatch(match.included, (), any_word=True)),
            "limit": limit,
            "options": _HEADLINE_OPTIONS,
        }
        clauses = [f"s.document @@ {_QUERY}"]
        for index, category in enumerate(categories):
            clauses.append(
                f"s.template_id IN (SELECT id FROM templates WHERE category = :c{index} "
                f"OR starts_with(category, :cp{index}))"
            )
            params.update({f"c{index}": category, f"cp{index}": f"{category}/"})
        for index, tag in enumerate(tags):
            clauses.append(f"s.template_id IN (SELECT template_id FROM template_tags WHERE tag = :t{index})")
            params[f"t{index}"] = tag
        where = " AND ".join(clauses)
        params["pool"] = max(RANK_POOL, limit)
        pool = (
            f"SELECT template_id FROM ((SELECT s.template_id, ts_rank('{RANK_WEIGHTS}', s.header, {_RANK}) AS h "
            f"FROM {TABLE} AS s WHERE {where} AND s.header @@ {_ANY} ORDER BY h DESC, s.template_id LIMIT :pool) "
            f"UNION ALL (SELECT s.template_id, 0 FROM {TABLE} AS s WHERE {where} AND NOT s.header @@ {_ANY} "
            "LIMIT :pool)) AS candidates ORDER BY h DESC, template_id LIMIT :pool"
        )
        # Snippets and matched fields for the best rows only.
        query = text(
            f"SELECT best.template_id, best.score, {_SNIPPET}, {_MATCHED} FROM "
            f"(SELECT c.template_id, ts_rank('{RANK_WEIGHTS}', f.document, {_RANK}) AS score FROM ({pool}) AS c "
            f"JOIN {TABLE} AS f ON f.template_id = c.template_id ORDER BY score DESC, c.template_id LIMIT :limit) "
            f"AS best JOIN templates AS t ON t.id = best.template_id "
            f"JOIN {TABLE} AS d ON d.template_id = best.template_id "
            "JOIN template_versions AS v ON v.template_id = t.id AND v.version = t.current_version "
            "ORDER BY best.score DESC, best.template_id"
        )
        # The planner cannot see that filtering rows one by one would read every document out of line: for
        # words in many templates it picks a sequential scan ten times slower than the index. This transaction only.
        await connection.execute(text("SELECT set_config('enable_seqscan', 'off', true)"))
        hits = []
        for row in await connection.execute(query, params):
            matched = [name for name, flag in zip(COLUMNS, row[3:], strict=True) if flag]
            hits.append(RankedHit(row[0], -row[1] * SCORE_SCALE, matched, readable_snippet(row[2])))
        return hits

    async def similar(self, connection: AsyncConnection, words: str, limit: int) -> list[tuple[str, str | None]]:
        """Names and titles of live prompts whose label looks like ``words`` (pg_trgm), most similar first."""
        await connection.execute(
            text("SELECT set_config('pg_trgm.word_similarity_threshold', :threshold, true)"),
            {"threshold": str(TRIGRAM_THRESHOLD)},
        )
        rows = await connection.execute(
            text(
                f"SELECT t.name, t.title FROM {TABLE} AS s JOIN templates AS t ON t.id = s.template_id "
                "WHERE :words <% s.label ORDER BY word_similarity(:words, s.label) DESC, t.name LIMIT :limit"
            ),
            {"words": words.lower(), "limit": limit},
        )
        return [(row.name, row.title) for row in rows]
