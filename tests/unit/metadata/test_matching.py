"""Automatic TMDB matches only when there is no doubt."""

from __future__ import annotations

from typing import Any

from showkeeper.metadata.matching import confident_match, normalise_title


def result(
    tmdb_id: int, name: str, first: str | None = None, original: str | None = None
) -> dict[str, Any]:
    return {"id": tmdb_id, "name": name, "original_name": original or name, "first_air_date": first}


def test_normalise_title() -> None:
    assert normalise_title("The Office (2005)") == "office"
    assert normalise_title("Amélie & Friends!") == "amelie and friends"
    assert normalise_title("  DARK  ") == "dark"
    assert normalise_title("The") == "the"


def test_one_equal_title_with_a_close_year_matches() -> None:
    found = [result(1, "Dark", "2017-12-01"), result(2, "Dark Matter", "2015-06-12")]
    assert confident_match("Dark", 2017, found) == 1
    assert confident_match("Dark", 2018, found) == 1  # within one year
    assert confident_match("Dark", 2020, found) is None
    assert confident_match("Dark", None, found) == 1  # no year to compare: the title decides


def test_two_equal_titles_are_not_confident() -> None:
    found = [result(1, "Kestrel Bay", "2017-12-01"), result(3, "Kestrel Bay", "1994-01-01")]
    assert confident_match("Kestrel Bay", None, found) is None
    assert confident_match("Kestrel Bay", 2017, found) == 1  # the year tells them apart


def test_original_name_counts_and_nothing_similar_matches() -> None:
    found = [result(5, "Haus des Geldes", "2017-05-02", original="La casa de papel")]
    assert confident_match("La Casa de Papel", 2017, found) == 5
    assert confident_match("Casa", 2017, found) is None
    assert confident_match("", 2017, found) is None
    assert confident_match("Dark", 2017, []) is None
