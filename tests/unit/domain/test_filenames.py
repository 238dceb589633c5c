"""Tests for showkeeper.domain.filenames (episode file name parsing)."""

from __future__ import annotations

import datetime
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from showkeeper.domain.filenames import (
    AUDIO_EXTENSIONS,
    MEDIA_EXTENSIONS,
    VIDEO_EXTENSIONS,
    ParsedEpisode,
    _parse_with_guessit,
    is_media_file,
    parse_episode_filename,
    parse_season_folder,
)

D = datetime.date


def case(name, season, episodes, *, hint=None, absolute=None, air_date=None, title=None):
    """A fast-path table row; ``pytest.param`` so the test id is the file name."""
    return pytest.param(
        name, hint, season, episodes, absolute, air_date, title, id=f"{name}|hint={hint}"
    )


# Every row is read by the fast path alone (see test_fast_path_handles_common_forms_itself).
FAST_CASES = [
    # --- scene releases
    case("Show.Name.S01E02.720p.HDTV.x264-GRP.mkv", 1, (2,)),
    case("Show.Name.S03E10.2160p.DSNP.WEB-DL.DDP5.1.Atmos.DV.HDR.H.265-GRP.mkv", 3, (10,)),
    case(
        "Show.Name.S01.E02.Title.Here.1080p.WEB-DL.DD5.1.H.264-GRP.mkv", 1, (2,), title="Title Here"
    ),
    case("Show.Name.S01E02.PROPER.720p.WEB.h264-GRP.mkv", 1, (2,)),
    case("Show.Name.S01E02.10bit.x265.mkv", 1, (2,)),
    case("Show.Name.S01E02.DD5.1x264.mkv", 1, (2,)),
    case("Show.Name.2013.S02E05.1080p.BluRay.x264-GRP.mkv", 2, (5,)),
    case("Doctor.Who.2005.S10E12.The.Doctor.Falls.720p.mkv", 10, (12,), title="The Doctor Falls"),
    case("1923.S01E02.1080p.WEB.mkv", 1, (2,)),
    case("Show_Name_S01E02_Title_720p.mkv", 1, (2,), title="Title"),
    case("Show.Name.S01E02-1080p.mkv", 1, (2,)),
    case("Show.S01E01.E3.Expo.mkv", 1, (1,), title="E3 Expo"),
    # --- lower case / short forms
    case("show.name.s1e2.mkv", 1, (2,)),
    case("show name s01e02 title.mkv", 1, (2,), title="title"),
    case("Show Name S01 E02.mkv", 1, (2,)),
    case("Show Name S01 - E02.mkv", 1, (2,)),
    case("Show.S1E1.avi", 1, (1,)),
    case("Show.S01E1234.mkv", 1, (1234,)),
    # --- Plex / Sonarr style
    case("Show Name (2013) - S01E02 - Title.mkv", 1, (2,), title="Title"),
    case("Show Name (2013) - S01E02 - Title [WEBDL-1080p][x264].mkv", 1, (2,), title="Title"),
    case("Show Name - S01E02 - Mr. Robot's Day (1080p).mkv", 1, (2,), title="Mr. Robot's Day"),
    case("Show (2013) - S02E05 - Title (Part 1).mkv", 2, (5,), title="Title (Part 1)"),
    case("Show Name - S01E02 - Title {tvdb-12345}.mkv", 1, (2,), title="Title"),
    case(
        "Show - S01E05 - 017 - The Title [HDTV-720p].mkv", 1, (5,), absolute=17, title="The Title"
    ),
    # --- specials, years as seasons
    case("Show.S00E01.Special.mkv", 0, (1,), title="Special"),
    case("Show - S00E03 - Behind the Scenes.mkv", 0, (3,), title="Behind the Scenes"),
    case("Show - S01E00 - Pilot.mkv", 1, (0,), title="Pilot"),
    case("Show.S2019E01.mkv", 2019, (1,)),
    # --- NxNN
    case("Show.Name.1x02.mkv", 1, (2,)),
    case("Show Name - 01x02 - Title.mkv", 1, (2,), title="Title"),
    case("Show Name 10x105.mkv", 10, (105,)),
    case("Show Name - 1x02-1x03 - Title.mkv", 1, (2, 3), title="Title"),
    case("Show Name - 1x02-03.mkv", 1, (2, 3)),
    case("Show Name - 1x02x03.mkv", 1, (2, 3)),
    # --- multi-episode
    case("Show.Name.S01E02-E03.mkv", 1, (2, 3)),
    case("Show.Name.S01E02E03.720p.mkv", 1, (2, 3)),
    case("Show.Name.S01E02-03.mkv", 1, (2, 3)),
    case("Show Name - S01E01-E03 - Title [WEBDL-1080p][x264].mkv", 1, (1, 2, 3), title="Title"),
    case("Show Name - S01E01E02E03 - Title.mkv", 1, (1, 2, 3), title="Title"),
    case("Show Name - S01E01-02-03.mkv", 1, (1, 2, 3)),
    case("Show Name - S01E01.S01E02 - Title.mkv", 1, (1, 2), title="Title"),
    case("Show.Name.S02E10-S02E11.720p.mkv", 2, (10, 11)),
    case("Show.E05-E06.mkv", None, (5, 6)),
    # --- Season/Episode words
    case("Show Season 2 Episode 3 - Title.mkv", 2, (3,), title="Title"),
    case("Serie Staffel 1 Folge 5.mkv", 1, (5,)),
    case("La Serie Temporada 3 Episodio 7.mp4", 3, (7,)),
    # --- anime fansub / absolute numbering
    case("[Group] Title - 12 (1080p) [ABCD1234].mkv", None, (12,), absolute=12),
    case("[SubsPlease] Sousou no Frieren - 28 (1080p) [A1B2C3D4].mkv", None, (28,), absolute=28),
    case("Title - 012 [1080p].mkv", None, (12,), absolute=12),
    case("Title - 12v2.mkv", None, (12,), absolute=12),
    case("[Erai-raws] Title_-_05_[720p].mkv", None, (5,), absolute=5),
    case("Title - 05 - The Return.mkv", None, (5,), absolute=5, title="The Return"),
    case("One Piece - 1089 [1080p].mkv", None, (1089,), absolute=1089),
    case("[Group] Title - 24 END [BD 1080p].mkv", None, (24,), absolute=24),
    case("[Group] Title S2 - 03 (1080p).mkv", 2, (3,), hint=2),
    case("[Group] Title - 05 [1080p].mkv", 1, (5,), hint=1),
    # --- date-based (talk shows)
    case("The.Daily.Show.2024.05.01.1080p.WEB.h264.mkv", None, (), air_date=D(2024, 5, 1)),
    case(
        "The Daily Show - 2024-05-01 - Guest Name.mkv",
        None,
        (),
        air_date=D(2024, 5, 1),
        title="Guest Name",
    ),
    case("Late.Show.2023_12_31.Guest.720p.mkv", None, (), air_date=D(2023, 12, 31), title="Guest"),
    case("Show (2013) - 2019-02-28 - Title.mp4", None, (), air_date=D(2019, 2, 28), title="Title"),
    # --- episode only / podcasts
    case("Episode 12 - Title.mp3", None, (12,), absolute=12, title="Title"),
    case("Episode 12 - Title.mp3", 3, (12,), hint=3, title="Title"),
    case("Ep 12.mkv", None, (12,), absolute=12),
    case("Ep.12.mkv", 2, (12,), hint=2),
    case("EP12.mkv", 1, (12,), hint=1),
    case("E05.mkv", 4, (5,), hint=4),
    case("Show.E05.720p.mkv", None, (5,), absolute=5),
    case("Podcast Name - Episode #42 - Guest.m4a", None, (42,), absolute=42, title="Guest"),
    case("Podcast #123 - Guest Name.mp3", None, (123,), absolute=123, title="Guest Name"),
    case(
        "Fernsehserie - Folge 12 - Über den Wolken.mkv",
        None,
        (12,),
        absolute=12,
        title="Über den Wolken",
    ),
    case("01 - Pilot.mkv", 1, (1,), hint=1, title="Pilot"),
    case("01. Pilot.mkv", None, (1,), absolute=1, title="Pilot"),
    case("07.mkv", 2, (7,), hint=2),
    # --- unicode
    case("進撃の巨人 - S01E02 - そのとき.mkv", 1, (2,), title="そのとき"),
    case("[Group] 進撃の巨人 - 05 [1080p].mkv", None, (5,), absolute=5),
    case(
        "Die Sendung mit der Maus - S2024E05 - Größenwahn und Übermut.mkv",
        2024,
        (5,),
        title="Größenwahn und Übermut",
    ),
    case("Tatort - S01E02 - Ärger im Südwesten.mkv", 1, (2,), title="Ärger im Südwesten"),
    case("İstanbul S01E02 Başlık.mkv", 1, (2,), title="Başlık"),
    case("Épisode 3 - Le Début.mkv", 1, (3,), hint=1, title="Le Début"),
]

# Names that must never yield an episode (with the guessit fallback enabled).
NONE_CASES = [
    "Trailer.mkv",
    "movie.2013.1080p.mkv",
    "Show.Name.2013.1080p.BluRay.x264.mkv",
    "Show.Name.720.HDTV.mkv",
    "Movie 5.1 x264.mkv",
    "Movie.DD5.1x264.mkv",
    "Show - 1080p.mkv",
    "Title - 2013 [1080p].mkv",
    "E3.2019.Press.Conference.mkv",
    "01.05.2024 Show.mkv",  # DD.MM vs MM.DD: ambiguous, not read
    "Show.Name.S01.1080p.mkv",  # season pack, no episode
    "[Group] Movie Title (2013) [1080p] [ABCD1234].mkv",
    "The 100.mkv",
    "Star.Wars.Episode.IV.A.New.Hope.1977.mkv",
    "readme.txt",
    "cover.jpg",
    "",
    "   ",
    "Show.Name.S123E01.mkv",  # season 123 is neither 0-99 nor a year
]

# Only guessit reads these; documents that the fallback is wired in and guarded.
GUESSIT_CASES = [
    ("Show.Name.102.HDTV.x264-GRP.mkv", None, 1, (2,)),
    ("[Group] Show Name 12 [1080p].mkv", 2, 2, (12,)),
    ("101 - Pilot.mkv", 1, 1, (1,)),  # ambiguous for the fast path with a Season 1 hint
]

SEASON_FOLDERS = [
    ("Season 01", 1),
    ("Season 1", 1),
    ("season1", 1),
    ("SEASON 12", 12),
    ("Season.2", 2),
    ("S01", 1),
    ("S1", 1),
    ("s03", 3),
    ("Staffel 1", 1),
    ("Saison 2", 2),
    ("Temporada 3", 3),
    ("Series 2", 2),
    ("Season 2019", 2019),
    ("Season 01 (2013)", 1),
    ("Season 0", 0),
    ("Specials", 0),
    ("Special", 0),
    ("specials", 0),
    ("第2季", 2),
    ("Season 01/", 1),
    ("Extras", None),
    ("Featurettes", None),
    ("Season 1-3", None),
    ("Season 100", None),
    ("Show Name", None),
    ("2013", None),
    ("", None),
]

MEDIA_FILES = [
    ("Show.S01E01.mkv", True),
    ("Show.S01E01.MKV", True),
    ("episode.mp4", True),
    ("episode.webm", True),
    ("episode.m4v", True),
    ("episode.ts", True),
    ("podcast.mp3", True),
    ("podcast.M4A", True),
    ("podcast.opus", True),
    ("/media/tv/Show/Season 01/Show.S01E01.avi", True),
    ("._Show.S01E01.mkv", False),
    (".hidden.mkv", False),
    ("Show.S01E01.mkv.part", False),
    ("Show.S01E01.sample.mkv", False),
    ("Show.S01E01-Sample.mkv", False),
    ("sample.mkv", False),
    ("readme.txt", False),
    ("cover.jpg", False),
    ("Show.S01E01.srt", False),
    ("Show.S01E01.nfo", False),
    ("mkv", False),
    (".mkv", False),
    ("", False),
]


def _expected(season, episodes, absolute, air_date, title, method):
    return ParsedEpisode(
        season=season,
        episodes=episodes,
        absolute=absolute,
        air_date=air_date,
        title=title,
        method=method,
    )


@pytest.mark.parametrize(
    ("name", "hint", "season", "episodes", "absolute", "air_date", "title"), FAST_CASES
)
def test_parse_episode_filename(name, hint, season, episodes, absolute, air_date, title):
    result = parse_episode_filename(name, season_hint=hint)
    assert result == _expected(season, episodes, absolute, air_date, title, "fast")


@pytest.mark.parametrize(
    ("name", "hint", "season", "episodes", "absolute", "air_date", "title"), FAST_CASES
)
def test_fast_path_handles_common_forms_itself(
    name, hint, season, episodes, absolute, air_date, title
):
    result = parse_episode_filename(name, season_hint=hint, use_fallback=False)
    assert result is not None
    assert result.method == "fast"
    assert (result.season, result.episodes, result.absolute, result.air_date) == (
        season,
        episodes,
        absolute,
        air_date,
    )


@pytest.mark.parametrize("name", NONE_CASES)
def test_returns_none_for_non_episodes(name):
    assert parse_episode_filename(name) is None
    # a season folder must not turn a year/resolution/codec into an episode either
    assert parse_episode_filename(name, season_hint=1, use_fallback=False) is None


@pytest.mark.parametrize(("name", "hint", "season", "episodes"), GUESSIT_CASES)
def test_guessit_fallback(name, hint, season, episodes):
    assert parse_episode_filename(name, season_hint=hint, use_fallback=False) is None
    result = parse_episode_filename(name, season_hint=hint)
    assert result is not None
    assert result.method == "guessit"
    assert (result.season, result.episodes) == (season, episodes)


def test_guessit_result_needs_season_or_hint():
    # guessit reads episode 12 but no season: rejected without a season hint
    assert parse_episode_filename("[Group] Show Name 12 [1080p].mkv") is None


@pytest.mark.parametrize(
    "name",
    [
        "Star Wars Episode 4 - A New Hope (1977).mkv",  # guessit: season=1977 (the year)
        "Show.Name.720.HDTV.mkv",  # guessit: S07E20 (from the resolution)
        "Show.Name.102-103.HDTV.mkv",  # guessit: episodes 102, 103 without a season
    ],
)
def test_guessit_answers_from_years_and_resolutions_are_rejected(name):
    assert _parse_with_guessit(name, 1) is None


def test_season_hint_is_ignored_when_name_has_a_season():
    result = parse_episode_filename("Show.S03E04.mkv", season_hint=1)
    assert result is not None
    assert (result.season, result.episodes) == (3, (4,))


def test_invalid_season_hint_is_ignored():
    result = parse_episode_filename("Episode 5.mp3", season_hint=-1, use_fallback=False)
    assert result is not None
    assert (result.season, result.episodes, result.absolute) == (None, (5,), 5)


def test_parsed_episode_is_frozen():
    result = parse_episode_filename("Show.S01E02.mkv")
    assert result is not None
    with pytest.raises(AttributeError):
        result.season = 2  # type: ignore[misc]


@pytest.mark.parametrize(("name", "expected"), SEASON_FOLDERS)
def test_parse_season_folder(name, expected):
    assert parse_season_folder(name) == expected


@pytest.mark.parametrize(("name", "expected"), MEDIA_FILES)
def test_is_media_file(name, expected):
    assert is_media_file(name) is expected


def test_extension_sets():
    assert {
        "mp4",
        "mkv",
        "webm",
        "m4v",
        "mov",
        "avi",
        "ts",
        "wmv",
        "flv",
        "mpg",
    } <= VIDEO_EXTENSIONS
    assert {"mpeg", "ogv", "3gp"} <= VIDEO_EXTENSIONS
    assert {"m4a", "mp3", "aac", "opus", "ogg", "flac", "wav"} <= AUDIO_EXTENSIONS
    assert MEDIA_EXTENSIONS == VIDEO_EXTENSIONS | AUDIO_EXTENSIONS
    assert all(e == e.lower() and not e.startswith(".") for e in MEDIA_EXTENSIONS)


# --------------------------------------------------------------------------------------------
# properties


def _check_invariants(result: ParsedEpisode | None) -> None:
    if result is None:
        return
    assert result.method in ("fast", "guessit")
    assert result.episodes or result.air_date is not None
    assert list(result.episodes) == sorted(set(result.episodes))
    assert all(e >= 0 for e in result.episodes)
    if 0 in result.episodes:  # only with an explicit season marker (S01E00, S00E00)
        assert result.season is not None
    if result.season is not None:
        assert 0 <= result.season <= 99 or 1900 <= result.season <= 2099
    if result.absolute is not None:
        assert result.absolute > 0
    assert result.title is None or result.title.strip() == result.title != ""


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=120), st.one_of(st.none(), st.integers(-5, 3000)))
def test_fast_path_never_raises(text, hint):
    _check_invariants(parse_episode_filename(text, season_hint=hint, use_fallback=False))


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(alphabet=st.sampled_from(list("SsEeXx0123456789 ._-[]()#vVp")), max_size=40),
    st.one_of(st.none(), st.integers(0, 30)),
)
@example("1.(000E", None)  # once crashed: int() on a non-numeric "year" inside parentheses
def test_fast_path_never_raises_on_marker_soup(text, hint):
    _check_invariants(parse_episode_filename(text, season_hint=hint, use_fallback=False))


def test_importing_does_not_import_guessit():
    code = "import sys, showkeeper.domain.filenames; print('guessit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80), st.one_of(st.none(), st.integers(0, 30)))
def test_with_fallback_never_raises(text, hint):
    _check_invariants(parse_episode_filename(text, season_hint=hint))


_RELEASE_NOISE = st.sampled_from(
    [
        "Show", "Name", "The", "Movie", "Title", "1080p", "720p", "2160p", "480i", "4K", "x264",
        "x265", "h264", "H.265", "HEVC", "10bit", "DD5.1", "AAC2.0", "5.1", "7.1", "2013",
        "1999", "(2020)", "[ABCD1234]", "[1080p]", "WEB-DL", "BluRay", "HDTV", "REPACK",
        "1920x1080", "DTS-HD.MA.5.1", "Atmos", "H.264-GRP", "x264-GRP",
    ]
)  # fmt: skip


@settings(max_examples=500)
@given(
    st.lists(_RELEASE_NOISE, min_size=1, max_size=8),
    st.sampled_from([".", " ", "_", " - "]),
    st.sampled_from(["mkv", "mp4", "avi"]),
)
def test_years_resolutions_codecs_never_become_episodes(words, sep, ext):
    name = sep.join(words) + "." + ext
    assert parse_episode_filename(name, use_fallback=False) is None


@settings(max_examples=300)
@given(
    st.integers(0, 99),
    st.integers(1, 999),
    st.sampled_from(
        [
            "Show.Name.S{s:02d}E{e:02d}.720p.HDTV.x264-GRP.mkv",
            "show.name.s{s}e{e}.mkv",
            "Show Name (2013) - S{s:02d}E{e:02d} - Title.mkv",
            "Show Name - {s}x{e:02d} - Title.mkv",
            "Show Name Season {s} Episode {e}.mp4",
        ]
    ),
)
def test_round_trip_season_episode(season, episode, template):
    name = template.format(s=season, e=episode)
    result = parse_episode_filename(name, use_fallback=False)
    assert result is not None
    assert (result.season, result.episodes) == (season, (episode,))


@settings(max_examples=200)
@given(st.integers(1, 98), st.integers(1, 20), st.booleans())
def test_round_trip_multi_episode(season, first, dash):
    name = f"Show.S{season:02d}E{first:02d}{'-' if dash else ''}E{first + 2:02d}.mkv"
    result = parse_episode_filename(name, use_fallback=False)
    assert result is not None
    expected = (first, first + 1, first + 2) if dash else (first, first + 2)
    assert (result.season, result.episodes) == (season, expected)
