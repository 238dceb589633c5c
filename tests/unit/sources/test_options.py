from datetime import date

import pytest

from showkeeper.sources.base import RemoteEpisode
from showkeeper.sources.filters import InvalidOptionsError, apply_filters, validate_options


def test_validate_normalises_and_keeps_other_keys() -> None:
    out = validate_options(
        {
            "include": "x",
            "exclude": "",
            "not_before": "2024-01-02T00:00:00",
            "min_duration_s": "90",
            "naming": "keep",
        }
    )
    assert out == {
        "include": "x",
        "not_before": "2024-01-02",
        "min_duration_s": 90,
        "naming": "keep",
    }
    assert validate_options(None) == {}
    assert (
        validate_options({"season_mode": "year", "playlist_order": "reversed"})["season_mode"]
        == "year"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"include": "["}, "option include is not a valid regular expression"),
        ({"season_mode": "decade"}, "option season_mode must be one of playlist, year"),
        (
            {"playlist_order": "random"},
            "option playlist_order must be one of auto, listed, reversed",
        ),
    ],
)
def test_validate_refuses_with_400(options: dict, message: str) -> None:
    with pytest.raises(InvalidOptionsError, match=message) as info:
        validate_options(options)
    assert info.value.status_code == 400


def test_apply_filters_keeps_order() -> None:
    eps = [
        RemoteEpisode(
            remote_id=str(n), title=f"Part {n}", air_date=date(2024, 1, n), duration_s=n * 100
        )
        for n in range(1, 6)
    ]
    kept = apply_filters(
        eps, {"exclude": "part 3", "min_duration_s": 200, "not_before": "2024-01-02"}
    )
    assert [e.remote_id for e in kept] == ["2", "4", "5"]
    assert apply_filters(eps, {}) is eps
