def test_fresh_store_lists_the_seeded_starter_library(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("list", "--json")
    assert result.returncode == 0, result.stderr
    assert "code-review" in result.stdout
