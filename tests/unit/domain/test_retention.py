"""Retention rules: parsing (0 refused) and which candidates each rule kind removes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from showkeeper.domain.retention import (
    Candidate,
    RetentionRule,
    RuleError,
    parse_rule,
    parse_share,
    select_removed,
)

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"keep_newest": 0}, "keep_newest = 0 would remove every episode"),
        ({"max_age_days": 0}, "max_age_days = 0 would remove every episode"),
        ({"keep_newest": -3}, "use at least 1"),
        ({"keep_newest": "5"}, "must be a whole number"),
        ({"keep_newest": True}, "must be a whole number"),
        ({"by": "watched"}, "by must be air_date or downloaded"),
        ({"keep": 3}, "unknown retention key 'keep'"),
    ],
)
def test_bad_rules_are_refused(values: dict[str, object], words: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rule(values)
    assert words in str(caught.value)


def test_share() -> None:
    assert parse_share(0.25) == 0.25 and parse_share(1) == 1.0
    for bad in (0, 1.5, -1, "x", True):
        with pytest.raises(RuleError):
            parse_share(bad)


def _cands(n: int) -> list[Candidate]:
    return [Candidate(f"f{i}", TODAY - timedelta(days=i), (1, n - i), True) for i in range(n)]


def test_keep_newest() -> None:
    removed = select_removed(RetentionRule(keep_newest=3), _cands(10), TODAY)
    assert [c.key for c, _ in removed] == [f"f{i}" for i in range(3, 10)]
    assert {why for _, why in removed} == {"beyond the newest 3"}


def test_max_age_and_both() -> None:
    removed = select_removed(RetentionRule(max_age_days=5), _cands(10), TODAY)
    assert [c.key for c, _ in removed] == [f"f{i}" for i in range(6, 10)]
    both = select_removed(RetentionRule(keep_newest=2, max_age_days=5), _cands(10), TODAY)
    assert [c.key for c, _ in both] == [f"f{i}" for i in range(2, 10)]


def test_undated_rank_by_number_and_never_expire() -> None:
    undated = [Candidate(f"e{n}", None, (1, n), True) for n in range(1, 6)]
    removed = select_removed(RetentionRule(keep_newest=2, max_age_days=1), undated, TODAY)
    assert [c.key for c, _ in removed] == ["e3", "e2", "e1"]
    assert not select_removed(RetentionRule(max_age_days=1), undated, TODAY)


def test_describe() -> None:
    assert RetentionRule().describe() == "keep everything"
    text = RetentionRule(keep_newest=5, max_age_days=30, by="downloaded").describe()
    assert text == "keep the newest 5 and remove after 30 days (by download date)"
