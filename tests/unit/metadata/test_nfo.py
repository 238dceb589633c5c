"""NFO building and reading: golden files, hostile text, refused XML."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest

from showkeeper.db.models import Episode, Series
from showkeeper.metadata.nfo import (
    MAX_NFO_BYTES,
    NfoError,
    clean_text,
    episode_nfo,
    is_ours,
    read_nfo,
    tvshow_nfo,
)

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("SHOWKEEPER_REGEN_GOLDEN") == "1"


def _series(**kw: object) -> Series:
    values: dict[str, object] = {
        "key": "example-com-feeds-dark",
        "folder": "Dark (2017)",
        "name": "Dark",
        "year": 2017,
        "overview": "A missing child sets four families on a frantic hunt.\nSecond line & more.",
        "image_url": "https://img.example.com/dark.jpg?w=600&h=900",
        "source_url": "https://example.com/feeds/dark.xml",
    }
    values.update(kw)
    return Series(**values)


def _episode(**kw: object) -> Episode:
    values: dict[str, object] = {
        "season": 1,
        "episode": 2,
        "title": "Lies",
        "air_date": date(2017, 12, 1),
        "duration_s": 3125,
    }
    values.update(kw)
    return Episode(**values)


def _golden(name: str, content: bytes) -> None:
    path = GOLDEN / name
    if REGEN:
        path.write_bytes(content)
    assert path.exists(), f"{path} missing; run with SHOWKEEPER_REGEN_GOLDEN=1"
    assert content == path.read_bytes(), f"{name} differs; SHOWKEEPER_REGEN_GOLDEN=1 to accept"


def test_tvshow_golden() -> None:
    _golden("tvshow.nfo", tvshow_nfo(_series(), premiered=date(2017, 12, 1)))


def test_tvshow_minimal_golden() -> None:
    minimal = _series(year=None, overview=None, image_url=None, name="Plain")
    _golden("tvshow_minimal.nfo", tvshow_nfo(minimal))


def test_tvshow_with_tmdb_golden() -> None:
    series = _series(
        tmdb_id=70523,
        source_state={"metadata": {"genres": ["Drama", "Mystery"], "studio": "Netflix"}},
    )
    _golden("tvshow_tmdb.nfo", tvshow_nfo(series, premiered=date(2017, 12, 1)))


def test_episode_with_tmdb_golden() -> None:
    episode = _episode(tmdb_id=1376224, overview="A boy disappears.\nThe town searches.")
    _golden("episode_tmdb.nfo", episode_nfo(_series(tmdb_id=70523), episode))


def test_episode_golden() -> None:
    _golden("episode.nfo", episode_nfo(_series(), _episode()))


def test_episode_without_title_date_or_duration_golden() -> None:
    bare = _episode(title=None, air_date=None, duration_s=None, season=0, episode=7)
    _golden("episode_minimal.nfo", episode_nfo(_series(), bare))


def test_generated_nfo_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "x.nfo"
    path.write_bytes(episode_nfo(_series(), _episode()))
    got = read_nfo(path)
    assert got["kind"] == "episodedetails"
    assert (got["title"], got["showtitle"], got["season"], got["episode"]) == (
        "Lies",
        "Dark",
        1,
        2,
    )
    assert got["uniqueids"] == {"showkeeper": "example-com-feeds-dark/s1e2"}
    assert got["default_uniqueid"] == "showkeeper"
    assert got["aired"] == "2017-12-01"
    assert got["ours"] is True


HOSTILE = "</title><script>alert(1)</script>&amp;../../etc\x00\x07\x1b\ud800\ufffe]]>"


def test_hostile_text_stays_well_formed(tmp_path: Path) -> None:
    series = _series(name=HOSTILE, overview=HOSTILE, image_url='x" onerror="y')
    for content in (tvshow_nfo(series), episode_nfo(series, _episode(title=HOSTILE))):
        root = ET.fromstring(content)
        assert root.find("script") is None
        title = root.findtext("title") or ""
        assert title == "</title><script>alert(1)</script>&amp;../../etc]]>"
        assert not any(ord(ch) < 0x20 for ch in title)
        path = tmp_path / "h.nfo"
        path.write_bytes(content)
        assert read_nfo(path)["title"] == title
    thumb = ET.fromstring(tvshow_nfo(series)).find("thumb")
    assert thumb is not None and thumb.text == 'x" onerror="y' and thumb.get("aspect") == "poster"


def test_clean_text_folds_lines_only_when_asked() -> None:
    assert clean_text(" a\r\n\tb\x0c ", one_line=True) == "a b"
    assert clean_text("a\nb\x01") == "a\nb"


def test_reads_other_tools_nfo_with_trailing_url(tmp_path: Path) -> None:
    path = tmp_path / "tvshow.nfo"
    path.write_bytes(
        b'<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n<tvshow>\n'
        b"<plot><![CDATA[Some <b>plot</b>]]></plot><title>Dark</title><year>2017</year>"
        b'<uniqueid type="tvdb" default="true">334824</uniqueid><uniqueid type="imdb">tt5753856'
        b'</uniqueid><actor><name>A</name></actor><namedseason number="1">One</namedseason>'
        b"</tvshow>\nhttps://thetvdb.com/?tab=series&id=334824\n"
    )
    got = read_nfo(path)
    assert got["title"] == "Dark" and got["year"] == 2017 and got["plot"] == "Some <b>plot</b>"
    assert got["uniqueids"] == {"tvdb": "334824", "imdb": "tt5753856"}
    assert got["default_uniqueid"] == "tvdb"
    assert got["ours"] is False and got["season"] is None


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE tvshow [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<tvshow><title>&lol9;</title></tvshow>
"""


@pytest.mark.parametrize(
    "content",
    [
        BILLION_LAUGHS,
        b'<!DOCTYPE tvshow SYSTEM "file:///etc/passwd"><tvshow><title>x</title></tvshow>',
        b'<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]><tvshow>&x;</tvshow>',
    ],
    ids=["billion-laughs", "external-dtd", "external-entity"],
)
def test_dtd_and_entities_are_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "tvshow.nfo"
    path.write_bytes(content)
    with pytest.raises(NfoError, match="DOCTYPE or ENTITY"):
        read_nfo(path)


def test_large_and_broken_files_are_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.nfo"
    big.write_bytes(b"<tvshow><plot>" + b"a" * MAX_NFO_BYTES + b"</plot></tvshow>")
    with pytest.raises(NfoError, match="larger than"):
        read_nfo(big)
    broken = tmp_path / "broken.nfo"
    broken.write_bytes(tvshow_nfo(_series())[:-30])
    with pytest.raises(NfoError, match="not well-formed"):
        read_nfo(broken)
    assert is_ours(broken.read_bytes())  # still recognisable as ours, so repair may rewrite it
