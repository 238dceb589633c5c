"""Tests for showkeeper.domain.paths: naming templates and path safety."""

from __future__ import annotations

import os
import unicodedata
from datetime import date
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from showkeeper.domain.paths import (
    ALLOWED_EXTENSIONS,
    COMPANION_SUFFIX_BYTES,
    DEFAULT_EPISODE_TEMPLATE,
    MAX_STEM_BYTES,
    NAME_MAX_BYTES,
    EpisodeNaming,
    UnsafePathError,
    ensure_inside,
    episode_file_name,
    episode_relative_path,
    safe_component,
    safe_extension,
    season_folder_name,
    series_folder_name,
    validate_template,
)

HOSTILE = [
    "../../etc",
    "..",
    ".",
    "...",
    "/abs",
    "/",
    "CON",
    "-rf",
    "a\x00b",
    "x" * 300,
    "..\\..\\windows",
    "~/.ssh",
    ".hidden",
    "  ",
    "",
    "\x00",
    "evil\u202egpj.exe",
]


def naming(**overrides: object) -> EpisodeNaming:
    fields: dict[str, object] = {
        "series": "Attack on Titan",
        "season": 1,
        "episodes": (2,),
        "title": "That Day",
        "ext": "mkv",
    }
    fields.update(overrides)
    return EpisodeNaming(**fields)  # type: ignore[arg-type]


def assert_safe_component(name: str, max_bytes: int = 200) -> None:
    assert name not in ("", ".", "..")
    assert set(name) != {"."}
    assert not any(ch in name for ch in "/\\\x00")
    assert not any(unicodedata.category(ch) == "Cc" for ch in name)
    assert not name.startswith(("-", ".", " "))
    assert not name.endswith((".", " "))
    assert len(name.encode("utf-8")) <= max_bytes


# --- safe_component -------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_titles_become_safe_components(text: str) -> None:
    assert_safe_component(safe_component(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("../../etc", "etc"),
        ("/abs", "abs"),
        ("-rf", "rf"),
        ("--help", "help"),
        ("- -.-foo. . ", "foo"),
        ("a\x00b", "a b"),
        ("tab\there\nnew\x7fdel\x85c1", "tab here new del c1"),
        ("Re: Zero", "Re - Zero"),
        ("AC/DC", "AC-DC"),
        ("a\\b|c:d", "a-b-c-d"),
        ('Say "Hi"', "Say 'Hi'"),
        ("Who? *Me* <b>", "Who Me b"),
        ("  lots   of\u3000space  ", "lots of space"),
        ("Trailing dots...", "Trailing dots"),
        ("Mr. Robot", "Mr. Robot"),
        ("evil\u202egpj.exe", "evilgpj.exe"),
    ],
)
def test_safe_component_rules(text: str, expected: str) -> None:
    assert safe_component(text) == expected


@pytest.mark.parametrize("text", ["", " ", "...", ". . .", "--", "\x00\x01", "???", "/", "..", "."])
def test_empty_results_use_fallback(text: str) -> None:
    assert safe_component(text) == "untitled"
    assert safe_component(text, fallback="Unknown Show") == "Unknown Show"


def test_unusable_fallback_still_gives_a_safe_name() -> None:
    assert safe_component("..", fallback="..") == "_"
    assert safe_component("", fallback="日本", max_bytes=2) == "_"
    assert safe_component("", max_bytes=3) == "unt"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CON", "CON_"),
        ("con", "con_"),
        ("Prn", "Prn_"),
        ("aux", "aux_"),
        ("NUL", "NUL_"),
        ("com1", "com1_"),
        ("COM9", "COM9_"),
        ("lpt1", "lpt1_"),
        ("LPT9", "LPT9_"),
        ("con.txt", "con_.txt"),
        ("NUL.tar.gz", "NUL_.tar.gz"),
        ("CON .txt", "CON_ .txt"),
        ("COM¹", "COM¹_"),
        ("CON:", "CON-"),
        ("CONSOLE", "CONSOLE"),
        ("Contact", "Contact"),
        ("COM10", "COM10"),
        ("icon", "icon"),
    ],
)
def test_reserved_windows_names(text: str, expected: str) -> None:
    assert safe_component(text) == expected


def test_truncation_that_recreates_a_reserved_name_is_fixed() -> None:
    assert safe_component("CONSOLE", max_bytes=3) == "_CO"


def test_nfd_is_normalised_to_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "Pokémon Café")
    assert nfd != "Pokémon Café"
    result = safe_component(nfd)
    assert result == "Pokémon Café"
    assert unicodedata.is_normalized("NFC", result)


def test_removed_characters_do_not_leave_nfd_behind() -> None:
    # U+202E between "e" and a combining acute: once removed the pair must compose.
    assert safe_component("Cafe\u202e\u0301") == "Café"


def test_truncates_multibyte_text_on_code_point_boundary() -> None:
    title = "進撃の巨人" * 40  # 3 bytes per character, 600 bytes
    result = safe_component(title, max_bytes=200)
    assert len(result.encode("utf-8")) == 198
    assert title.startswith(result)
    result = safe_component("日本語", max_bytes=7)
    assert result == "日本"


def test_truncation_keeps_combining_marks_with_their_base() -> None:
    # "q" + combining acute has no precomposed form, so it stays two code points.
    result = safe_component("ab" + "q\u0301", max_bytes=3)
    assert result == "ab"


def test_truncation_strips_exposed_trailing_dots_and_spaces() -> None:
    assert safe_component("abc. def", max_bytes=5) == "abc"


def test_300_char_title_is_capped() -> None:
    result = safe_component("a" * 300)
    assert result == "a" * 200
    assert safe_component("a" * 300, max_bytes=255) == "a" * 255


@pytest.mark.parametrize("max_bytes", [0, -1, 256])
def test_max_bytes_range(max_bytes: int) -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        safe_component("x", max_bytes=max_bytes)


# --- safe_extension -------------------------------------------------------------------------


@pytest.mark.parametrize(("ext", "expected"), [(".MP4", "mp4"), ("mp4", "mp4"), ("MkV", "mkv")])
def test_safe_extension_normalises(ext: str, expected: str) -> None:
    assert safe_extension(ext) == expected


@pytest.mark.parametrize("ext", sorted(ALLOWED_EXTENSIONS))
def test_all_allowed_extensions_accepted(ext: str) -> None:
    assert safe_extension(ext) == ext
    assert safe_extension("." + ext.upper()) == ext


@pytest.mark.parametrize(
    "ext",
    [
        "exe",
        ".desktop",
        "desktop",
        "../.mp4",
        "./mp4",
        "mp4/",
        "..mp4",
        "mp4 ",
        " mp4",
        "mp4\x00",
        "",
        ".",
        "sh",
        "m\u212av",  # KELVIN SIGN lower-cases to "k"
        "mp4.exe",
        "exe.mp4",
    ],
)
def test_safe_extension_refuses(ext: str) -> None:
    with pytest.raises(UnsafePathError, match="refused file extension"):
        safe_extension(ext)


# --- folder names ---------------------------------------------------------------------------


def test_series_folder_name() -> None:
    assert series_folder_name("Attack on Titan", 2013) == "Attack on Titan (2013)"
    assert series_folder_name("Attack on Titan (2013)", 2013) == "Attack on Titan (2013)"
    assert series_folder_name("Attack on Titan  ( 2013 )", 2013) == "Attack on Titan (2013)"
    assert series_folder_name("Doctor Who (2005)", 1963) == "Doctor Who (2005) (1963)"
    assert series_folder_name("Attack on Titan") == "Attack on Titan"
    assert series_folder_name("../../etc", 2020) == "etc (2020)"
    assert series_folder_name("CON") == "CON_"
    assert series_folder_name("", 2020) == "untitled (2020)"


def test_series_folder_name_keeps_year_when_truncating() -> None:
    result = series_folder_name("x" * 300, 2013)
    assert result.endswith("x (2013)")
    assert len(result.encode("utf-8")) <= 200
    assert_safe_component(result)


@pytest.mark.parametrize("year", [0, -1, 10000, True])
def test_series_folder_name_refuses_bad_year(year: int) -> None:
    with pytest.raises(UnsafePathError, match="year"):
        series_folder_name("Show", year)


def test_season_folder_name() -> None:
    assert season_folder_name(0) == "Specials"
    assert season_folder_name(1) == "Season 01"
    assert season_folder_name(12) == "Season 12"
    assert season_folder_name(2013) == "Season 2013"


@pytest.mark.parametrize("season", [-1, 10000, True])
def test_season_folder_name_refuses(season: int) -> None:
    with pytest.raises(UnsafePathError, match="season"):
        season_folder_name(season)


# --- EpisodeNaming --------------------------------------------------------------------------


def test_episode_naming_normalises_ext_and_episodes() -> None:
    n = naming(ext=".MKV", episodes=[2, 3])
    assert n.ext == "mkv"
    assert n.episodes == (2, 3)
    assert hash(n) == hash(naming(ext="mkv", episodes=(2, 3)))


@pytest.mark.parametrize(
    "overrides",
    [
        {"episodes": ()},
        {"episodes": (-1,)},
        {"episodes": (True,)},
        {"episodes": tuple(range(1, 200))},
        {"season": -1},
        {"season": 10**6},
        {"absolute": -5},
        {"ext": "exe"},
        {"ext": "../.mp4"},
        {"air_date": "2024-01-01"},
    ],
)
def test_episode_naming_refuses_bad_values(overrides: dict[str, object]) -> None:
    with pytest.raises(UnsafePathError):
        naming(**overrides)


# --- episode_file_name ----------------------------------------------------------------------


def test_default_episode_file_name() -> None:
    assert episode_file_name(naming()) == "Attack on Titan - S01E02 - That Day.mkv"


def test_multi_episode_name() -> None:
    assert episode_file_name(naming(episodes=(2, 3))) == (
        "Attack on Titan - S01E02-E03 - That Day.mkv"
    )
    assert episode_file_name(naming(episodes=(4, 2, 3))) == (
        "Attack on Titan - S01E02-E04 - That Day.mkv"
    )
    assert episode_file_name(naming(episodes=(1, 3, 5), title=None)) == (
        "Attack on Titan - S01E01-E03-E05.mkv"
    )
    assert episode_file_name(naming(episodes=(1, 2)), "{series} {season}x{episode:02d}") == (
        "Attack on Titan 1x01-x02.mkv"
    )


def test_specials_name() -> None:
    assert episode_file_name(naming(season=0, episodes=(1,), title="OVA")) == (
        "Attack on Titan - S00E01 - OVA.mkv"
    )
    path = episode_relative_path("Attack on Titan (2013)", naming(season=0, episodes=(1,)))
    assert path == PurePosixPath(
        "Attack on Titan (2013)/Specials/Attack on Titan - S00E01 - That Day.mkv"
    )


@pytest.mark.parametrize("title", [None, "", "   ", "...", "???", "\x00\x00"])
def test_missing_title_leaves_no_trailing_separator(title: str | None) -> None:
    assert episode_file_name(naming(title=title)) == "Attack on Titan - S01E02.mkv"


def test_missing_optional_fields_drop_separators_and_brackets() -> None:
    template = "{series} - S{season:02d}E{episode:02d} [{absolute:03d}] - {title}"
    assert episode_file_name(naming(absolute=27), template) == (
        "Attack on Titan - S01E02 [027] - That Day.mkv"
    )
    assert episode_file_name(naming(), template) == "Attack on Titan - S01E02 - That Day.mkv"
    assert episode_file_name(naming(title=None), "{title} - {series} {episode}") == (
        "Attack on Titan 2.mkv"
    )
    assert episode_file_name(naming(), "{series} ({absolute} eps) {episode}") == (
        "Attack on Titan ( eps) 2.mkv"  # brackets stay balanced
    )


def test_air_date_template() -> None:
    n = naming(air_date=date(2024, 1, 2))
    assert episode_file_name(n, "{series} - {air_date} - {title}") == (
        "Attack on Titan - 2024-01-02 - That Day.mkv"
    )
    with pytest.raises(UnsafePathError, match="no identifier"):
        episode_file_name(naming(), "{series} - {air_date} - {title}")


@pytest.mark.parametrize(
    ("series", "title", "expected"),
    [
        ("../../etc", "../../passwd", "etc - S01E02 - passwd.mkv"),
        ("/abs", "/root/.ssh", "abs - S01E02 - root-.ssh.mkv"),
        ("-rf", "-rf /", "rf - S01E02 - rf.mkv"),
        ("CON", "NUL", "CON - S01E02 - NUL.mkv"),
        ("Show\x00", "A\x00B", "Show - S01E02 - A B.mkv"),
        ("{title}", "{series.__class__}", "{title} - S01E02 - {series.__class__}.mkv"),
        ("Show", "{0.__globals__}", "Show - S01E02 - {0.__globals__}.mkv"),
    ],
)
def test_hostile_fields_are_sanitised_not_interpreted(
    series: str, title: str, expected: str
) -> None:
    assert episode_file_name(naming(series=series, title=title)) == expected


def test_reserved_stem_in_rendered_name_is_fixed() -> None:
    assert episode_file_name(naming(series="con"), "{series}.{episode}") == "con_.2.mkv"


def test_name_length_is_capped_keeping_extension_and_episode() -> None:
    name = episode_file_name(naming(series="S" * 300, title="進" * 300, episodes=(1, 2)))
    assert len(name.encode("utf-8")) <= 240
    assert " - S01E01-E02 - 進進進" in name
    assert name.endswith("進.mkv")
    assert_safe_component(name, 240)
    long_title = episode_file_name(naming(title="t" * 300, ext="opus"))
    # the stem leaves room for every companion file (".<stem>-thumb.jpg.XXXXXXXX.tmp")
    assert len(long_title.encode("utf-8")) == MAX_STEM_BYTES + len(".opus")
    assert MAX_STEM_BYTES + COMPANION_SUFFIX_BYTES == NAME_MAX_BYTES
    assert long_title.startswith("Attack on Titan - S01E02 - ttt")
    assert long_title.endswith("t.opus")


@pytest.mark.parametrize(
    "template",
    [
        "{series.__class__}{episode}",
        "{series.__class__.__mro__}{episode}",
        "{title[0]}{episode}",
        "{0}{episode}",
        "{}{episode}",
        "{ext}{episode}",
        "{unknown}{episode}",
        "{series!r}{episode}",
        "{series!s}{episode}",
        "{episode:{title}}",
        "{title:>99999999}{episode}",
        "{episode:0100d}",
        "{title:d}{episode}",
        "{season:s}{episode}",
        "{episode:c}",
        "{episode:x}",
        "{",
        "}",
        "{episode",
        "{series}/{episode}",
        "{series}\\{episode}",
        "{series}\x00{episode}",
        "{series} - {title}",
        "",
        "x" * 501 + "{episode}",
    ],
)
def test_template_injection_and_invalid_templates_refused(template: str) -> None:
    with pytest.raises(UnsafePathError, match="refused"):
        validate_template(template)
    with pytest.raises(UnsafePathError):
        episode_file_name(naming(), template)


@pytest.mark.parametrize(
    "template",
    [
        DEFAULT_EPISODE_TEMPLATE,
        "{series} {season}x{episode}",
        "{series} - {absolute:03d} - {title}",
        "{series} - {air_date} - {title:.40}",
        "{{literal}} {episode:>3}",
        "{series:_<10} E{episode:02}",
    ],
)
def test_valid_templates(template: str) -> None:
    validate_template(template)


# --- episode_relative_path / ensure_inside --------------------------------------------------


def test_episode_relative_path() -> None:
    path = episode_relative_path("Attack on Titan (2013)", naming())
    assert path == PurePosixPath(
        "Attack on Titan (2013)/Season 01/Attack on Titan - S01E02 - That Day.mkv"
    )
    hostile = episode_relative_path("../../..", naming(series="..", title="../x"))
    assert hostile.parts == ("untitled", "Season 01", "untitled - S01E02 - x.mkv")


def test_ensure_inside_accepts_normal_paths(tmp_path: Path) -> None:
    root = tmp_path / "library"
    root.mkdir()
    rel = episode_relative_path("Show", naming())
    assert ensure_inside(root, rel) == Path(os.path.realpath(root)) / rel
    assert (
        ensure_inside(str(root), "Show/Season 01")
        == Path(os.path.realpath(root)) / "Show/Season 01"
    )
    assert ensure_inside(root, "a/../b") == Path(os.path.realpath(root)) / "b"


@pytest.mark.parametrize(
    "relative",
    ["../x", "..", "a/../../x", ".", "", "a/..", "/etc/passwd", PurePosixPath("/abs"), "a\x00b"],
)
def test_ensure_inside_refuses_escapes(tmp_path: Path, relative: str | PurePosixPath) -> None:
    with pytest.raises(UnsafePathError, match="refused"):
        ensure_inside(tmp_path, relative)


def test_ensure_inside_refuses_sibling_with_common_prefix(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "library-evil").mkdir()
    with pytest.raises(UnsafePathError):
        ensure_inside(tmp_path / "lib", "../library-evil/x")


def test_ensure_inside_refuses_symlink_pointing_outside(tmp_path: Path) -> None:
    root = tmp_path / "library"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "Show").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafePathError, match="not inside the library root"):
        ensure_inside(root, "Show/Season 01/file.mkv")
    (root / "file.mkv").symlink_to(outside / "file.mkv")
    with pytest.raises(UnsafePathError):
        ensure_inside(root, "file.mkv")


def test_ensure_inside_follows_symlink_staying_inside(tmp_path: Path) -> None:
    root = tmp_path / "library"
    (root / "real").mkdir(parents=True)
    (root / "alias").symlink_to(root / "real", target_is_directory=True)
    assert ensure_inside(root, "alias/x.mkv") == Path(os.path.realpath(root)) / "real" / "x.mkv"


def test_ensure_inside_with_symlinked_root(tmp_path: Path) -> None:
    real_root = tmp_path / "disk"
    real_root.mkdir()
    link_root = tmp_path / "media"
    link_root.symlink_to(real_root, target_is_directory=True)
    assert (
        ensure_inside(link_root, "Show/x.mkv") == Path(os.path.realpath(real_root)) / "Show/x.mkv"
    )


def test_ensure_inside_refuses_empty_root() -> None:
    with pytest.raises(UnsafePathError, match="root"):
        ensure_inside("", "x")


# --- properties -----------------------------------------------------------------------------

# Arbitrary unicode (st.text excludes surrogates) mixed with the characters that matter most.
nasty = st.sampled_from(
    list('./\\-: \t\n\x00\x01\x1f\x7f\x85\x9f*?"<>|~CONcomLPTnul1¹日本é\u0301\u202e\u3000')
)
hostile_text = st.text(alphabet=st.characters() | nasty, max_size=120) | st.sampled_from(HOSTILE)
PROPERTY_SETTINGS = settings(max_examples=300, deadline=None)


@PROPERTY_SETTINGS
@given(text=hostile_text, max_bytes=st.integers(min_value=1, max_value=255))
def test_property_safe_component(text: str, max_bytes: int) -> None:
    result = safe_component(text, max_bytes=max_bytes)
    assert_safe_component(result, max_bytes)
    assert safe_component(result, max_bytes=max_bytes) == result


@PROPERTY_SETTINGS
@given(text=st.text(max_size=300))
def test_property_safe_component_plain_text(text: str) -> None:
    result = safe_component(text)
    assert_safe_component(result)
    assert unicodedata.is_normalized("NFC", result)


@pytest.fixture(scope="module")
def library_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("library")


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    folder=hostile_text,
    series=hostile_text,
    title=st.none() | hostile_text,
    season=st.integers(min_value=0, max_value=9999),
    episodes=st.lists(st.integers(min_value=0, max_value=99999), min_size=1, max_size=5),
    ext=st.sampled_from(sorted(ALLOWED_EXTENSIONS)),
)
def test_property_episode_path_stays_inside_root(
    library_root: Path,
    folder: str,
    series: str,
    title: str | None,
    season: int,
    episodes: list[int],
    ext: str,
) -> None:
    n = EpisodeNaming(series=series, season=season, episodes=tuple(episodes), title=title, ext=ext)
    rel = episode_relative_path(folder, n)
    assert not rel.is_absolute()
    assert len(rel.parts) == 3
    for part in rel.parts:
        assert_safe_component(part, 240)
    assert rel.name.endswith("." + ext)
    assert len(rel.name.encode("utf-8")) <= 240
    resolved = ensure_inside(library_root, rel)
    assert resolved == Path(os.path.realpath(library_root)) / rel


@PROPERTY_SETTINGS
@given(
    ext=hostile_text | st.sampled_from(sorted(ALLOWED_EXTENSIONS)).map(lambda e: "." + e.upper())
)
def test_property_extension_allowed_or_refused(ext: str) -> None:
    try:
        result = safe_extension(ext)
    except UnsafePathError:
        assert ext.removeprefix(".").lower() not in ALLOWED_EXTENSIONS or not ext.isascii()
    else:
        assert result in ALLOWED_EXTENSIONS
        assert result == ext.removeprefix(".").lower()
