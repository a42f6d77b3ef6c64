"""The query language: words, phrases, prefixes, exclusions, filters; user text never becomes FTS5 or tsquery
syntax."""

from __future__ import annotations

import pytest

from pba_tunnel.search.query import QueryError, parse_query, text_matches
from pba_tunnel.store.matching import MatchTerm, TextMatch, tsquery_text


def test_plain_words_must_all_match() -> None:
    assert parse_query("code review").match_expression() == '"code" AND "review"'


def test_any_word_fallback_expression_keeps_exclusions() -> None:
    query = parse_query("code review -draft")
    assert query.match_expression(any_word=True) == '("code" OR "review") NOT "draft"'


def test_phrases_prefixes_and_exclusions() -> None:
    query = parse_query('"commit message" revi* -"first draft"')
    assert query.match_expression() == '"commit message" AND "revi" * NOT "first draft"'


def test_filters_are_taken_out_of_the_words() -> None:
    query = parse_query("category:Security tag:sql tag:owasp injection")
    assert (query.categories, query.tags, query.match_expression()) == (["security"], ["sql", "owasp"], '"injection"')


def test_quoted_filter_values() -> None:
    assert parse_query('category:"prompts-chat/development" linux').categories == ["prompts-chat/development"]


def test_hyphenated_words_become_a_phrase() -> None:
    assert parse_query("code-review").match_expression() == '"code review"'


def test_stop_words_are_not_required() -> None:
    assert parse_query("tests for a python module").match_expression() == '"tests" AND "python" AND "module"'


def test_a_query_of_stop_words_still_searches_them() -> None:
    assert parse_query("the").match_expression() == '"the"'


def test_fts5_operators_typed_by_a_user_are_plain_words() -> None:
    # "NEAR(y)" is the phrase "near y"; "OR" is a common word, not an operator
    assert parse_query("x NEAR(y) OR z").match_expression() == '"x" AND "near y" AND "z"'


def test_an_unclosed_quote_runs_to_the_end() -> None:
    assert parse_query('find "unclosed phrase').match_expression() == '"find" AND "unclosed phrase"'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the query is empty: type a few words, e.g. code review"),
        ("   ", "the query is empty: type a few words, e.g. code review"),
        ("-draft -old", "a query of exclusions only matches nothing: add a word to look for, e.g. review -draft"),
        ("category: review", "'category:' needs a value, e.g. category:security"),
        ("* - ()", "the query is empty: type a few words, e.g. code review"),
        (  # it used to be ignored: 'category:security -category:security' still found the security templates
            "category:security -category:security",
            "'-category:security' would exclude a category, which search cannot do: leave it out, and narrow the "
            "search with category:NAME or with -word for words the templates must not contain",
        ),
        (
            "review -tag:SQL",
            "'-tag:sql' would exclude a tag, which search cannot do: leave it out, and narrow the search with "
            "tag:NAME or with -word for words the templates must not contain",
        ),
    ],
)
def test_queries_with_nothing_to_look_for_are_clear_errors(text: str, message: str) -> None:
    with pytest.raises(QueryError) as raised:
        parse_query(text)
    assert (raised.value.code, raised.value.message) == ("invalid_query", message)


def test_too_many_terms_is_an_error() -> None:
    with pytest.raises(QueryError, match="use at most 32"):
        parse_query(" ".join(f"word{i}" for i in range(40)))


def test_postgresql_gets_the_same_query_as_quoted_tsquery_lexemes() -> None:
    query = parse_query('"commit message" revi* -"first draft"')
    assert tsquery_text(query.text_match()) == "(('commit' <-> 'message') & 'revi':*) & !('first' <-> 'draft')"
    assert tsquery_text(parse_query("code review -draft").text_match(any_word=True)) == "('code' | 'review') & !'draft'"


def test_a_tsquery_lexeme_cannot_close_its_quotes() -> None:
    term = MatchTerm(("it's", "a\\b", "x' | 'y"), prefix=True)
    assert tsquery_text(TextMatch((term,))) == "('it''s' <-> 'a\\\\b' <-> 'x'' | ''y':*)"


@pytest.mark.parametrize(
    ("query", "any_word", "expected"),
    [
        ("code review", False, True),
        ("code zebra", False, False),
        ("code zebra", True, True),
        ('"review code"', False, False),
        ('"code review"', False, True),
        ("revi*", False, True),
        ("code -draft", False, False),
        ("tag:sql", False, True),  # filters are checked apart from the text
    ],
)
def test_one_template_text_is_matched_word_for_word(query: str, any_word: bool, expected: bool) -> None:
    text = "Code-review of a first Draft"
    assert text_matches(parse_query(query), text, any_word=any_word) is expected
