"""Naming schemes: template checks (the paths.py rules), folder and episode rendering."""

from __future__ import annotations

from datetime import date

import pytest

from showkeeper.domain.naming import (
    DEFAULT_SCHEME,
    FIELDS,
    NamingScheme,
    episode_path,
    merge,
    scheme_from,
    season_folder,
    series_folder,
    validate_scheme,
)
from showkeeper.domain.paths import TEMPLATE_FIELDS, EpisodeNaming, UnsafePathError


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"episode": "../{episode}"}, "may not contain '/'"),
        ({"episode": "a\\{episode}"}, "may not contain '\\\\'"),
        ({"episode": "{episode}\x07"}, "may not contain '\\x07'"),
        ({"episode": "{series} {nope}"}, "refused template field {nope}"),
        ({"episode": "{series} - {title}"}, "must contain {episode}"),
        ({"episode": "{episode.__class__}"}, "refused template field"),
        ({"season_folder": "Season {episode}"}, "season_folder: refused template field {episode}"),
        ({"series_folder": "{series}/{year}"}, "series_folder: refused template"),
        ({"series_folder": ""}, "may not be empty"),
        ({"episode": 5}, "must be a string"),
        ({"colour": "x"}, "unknown naming key 'colour'"),
    ],
)
def test_refused_templates_say_why(values: dict[str, object], words: str) -> None:
    with pytest.raises(UnsafePathError) as caught:
        validate_scheme(values)
    assert words in str(caught.value)


def test_a_partial_override_may_clear_a_template() -> None:
    assert validate_scheme({"episode": None}, partial=True) == {"episode": None}
    with pytest.raises(UnsafePathError):
        validate_scheme({"episode": None})


def test_documented_fields_are_the_accepted_ones() -> None:
    assert {f["name"] for f in FIELDS} == TEMPLATE_FIELDS


def _naming(**kw: object) -> EpisodeNaming:
    base: dict[str, object] = {
        "series": "Show",
        "season": 2,
        "episodes": (3,),
        "title": "The Title",
        "ext": "mkv",
        "air_date": date(2024, 3, 5),
        "year": 2019,
        "quality": "1080p",
        "source_id": "vid-42",
    }
    return EpisodeNaming(**{**base, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("template", "name"),
    [
        ("{series} - S{season:02d}E{episode:02d} - {title}", "Show - S02E03 - The Title.mkv"),
        ("{series} {air_date}", "Show 2024-03-05.mkv"),
        ("{series} {air_date_dots}", "Show 2024.03.05.mkv"),
        ("{air_date_compact} {title}", "20240305 The Title.mkv"),
        ("{series} ({year}) {air_year} E{episode}", "Show (2019) 2024 E3.mkv"),
        ("{series} {episode:02d} [{quality}] [{source_id}]", "Show 03 [1080p] [vid-42].mkv"),
    ],
)
def test_episode_fields(template: str, name: str) -> None:
    scheme = NamingScheme(episode=template)
    assert episode_path(scheme, "Show", _naming()).name == name


def test_missing_values_take_their_brackets_along() -> None:
    scheme = NamingScheme(episode="{series} {episode:02d} [{quality}] ({year})")
    assert episode_path(scheme, "Show", _naming(quality=None, year=None)).name == "Show 03.mkv"


def test_hostile_metadata_stays_one_component() -> None:
    naming = _naming(series="../../etc", title="<script>alert(1)</script>/x", source_id="../id")
    scheme = NamingScheme(
        series_folder="{series} [{source_id}]", episode="{series} {episode} {title} {source_id}"
    )
    folder = series_folder(scheme, current="x", name="../../etc", year=None, source_id="../a/b")
    path = episode_path(scheme, folder, naming)
    assert ".." not in path.parts and len(path.parts) == 3
    assert "/" not in folder and "<" not in path.name


def test_folders() -> None:
    scheme = NamingScheme(series_folder="{series} ({year})", season_folder="S{season}")
    assert series_folder(scheme, current="old", name="A: B", year=2013, source_id=None) == (
        "A - B (2013)"
    )
    assert series_folder(scheme, current="old", name="A", year=None, source_id=None) == "A"
    assert series_folder(
        DEFAULT_SCHEME, current="Kept (1999)", name="A", year=1, source_id=None
    ) == ("Kept (1999)")
    assert season_folder(scheme, 3) == "S3"
    assert season_folder(scheme, 0) == "Specials"
    flat = NamingScheme(season_folder="")
    assert season_folder(flat, 3) is None
    assert episode_path(flat, "Show", _naming()).as_posix() == "Show/Show - S02E03 - The Title.mkv"


def test_merge_and_stored_values() -> None:
    merged = merge(DEFAULT_SCHEME, {"episode": "{episode}", "season_folder": None})
    assert merged.episode == "{episode}" and merged.season_folder == DEFAULT_SCHEME.season_folder
    assert scheme_from({"episode": "../{episode}"}) == DEFAULT_SCHEME  # a bad stored value
    assert scheme_from({"season_folder": ""}).season_folder == ""
