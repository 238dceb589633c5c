from datetime import date

import pytest

from showkeeper.domain.filters import FilterError, parse_filter


def test_empty_options_accept_everything() -> None:
    rules = parse_filter({})
    assert rules.is_empty
    assert rules.accepts(None, None, None)


def test_include_and_exclude_are_case_insensitive_searches() -> None:
    rules = parse_filter({"include": "^episode", "exclude": "trailer|teaser"})
    assert rules.accepts("Episode 1: Start", None, None)
    assert not rules.accepts("Bonus: Episode 1", None, None)
    assert not rules.accepts("EPISODE 2 (Trailer)", None, None)
    assert not rules.accepts(None, None, None)  # include needs a title
    assert parse_filter({"exclude": "x"}).accepts(None, None, None)  # exclude does not


def test_dates_and_durations() -> None:
    rules = parse_filter(
        {"not_before": "2024-02-01", "min_duration_s": 60, "max_duration_s": "3600"}
    )
    assert not rules.accepts("a", date(2024, 1, 31), 600)
    assert rules.accepts("a", date(2024, 2, 1), 600)
    assert rules.accepts("a", None, None)  # unknown date and duration pass
    assert not rules.accepts("a", None, 59)
    assert not rules.accepts("a", None, 3601)
    assert parse_filter({"not_before": "2024-02-01T10:00:00Z"}).not_before == date(2024, 2, 1)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"include": "(unclosed"},
            "option include is not a valid regular expression: missing ), unterminated subpattern at position 0",
        ),
        ({"exclude": 5}, "option exclude must be a regular expression string"),
        ({"include": "a" * 501}, "longer than 500"),
        ({"not_before": "yesterday"}, "option not_before must be a date written YYYY-MM-DD"),
        ({"min_duration_s": "long"}, "option min_duration_s must be a number of seconds"),
        ({"max_duration_s": -1}, "between 0 and"),
        ({"min_duration_s": True}, "must be a number of seconds"),
        (
            {"min_duration_s": 100, "max_duration_s": 10},
            "min_duration_s (100) is above max_duration_s (10)",
        ),
    ],
)
def test_bad_values_say_which_option(options: dict, message: str) -> None:
    with pytest.raises(FilterError) as info:
        parse_filter(options)
    assert message in str(info.value)
