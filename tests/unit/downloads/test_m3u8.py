"""HLS playlist parsing and variant choice."""

from __future__ import annotations

import pytest

from showkeeper.downloads.m3u8 import (
    Key,
    PlaylistError,
    Variant,
    choose_variant,
    is_master,
    parse_attributes,
    parse_master,
    parse_media,
)

MASTER = """#EXTM3U
#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.4d401e,mp4a.40.2"
360p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=5000000,RESOLUTION=1920x1080
1080p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2500000,RESOLUTION=1280x720
https://cdn.example/720p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=9000000,RESOLUTION=3840x2160
2160p/index.m3u8
"""

MEDIA = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:7
#EXTINF:4.0,
seg0.ts
#EXT-X-KEY:METHOD=AES-128,URI="key.bin"
#EXTINF:4.0,
seg1.ts?token=abc
#EXT-X-KEY:METHOD=AES-128,URI="/k2",IV=0x000102030405060708090a0b0c0d0e0f
#EXTINF:2.5,title
seg2.ts
#EXT-X-KEY:METHOD=NONE
#EXTINF:1,
seg3.ts
#EXT-X-ENDLIST
"""


def test_attributes_with_quoted_commas() -> None:
    attrs = parse_attributes('BANDWIDTH=1,CODECS="a,b",RESOLUTION=1x2')
    assert attrs == {"BANDWIDTH": "1", "CODECS": "a,b", "RESOLUTION": "1x2"}


def test_master_parsing_resolves_uris() -> None:
    variants = parse_master(MASTER, "http://h/show/master.m3u8")
    assert is_master(MASTER)
    assert [v.height for v in variants] == [360, 1080, 720, 2160]
    assert variants[0].uri == "http://h/show/360p/index.m3u8"
    assert variants[0].codecs == "avc1.4d401e,mp4a.40.2"
    assert variants[2].uri == "https://cdn.example/720p/index.m3u8"


@pytest.mark.parametrize(
    ("max_height", "expected"), [(1080, 1080), (720, 720), (4320, 2160), (480, 360)]
)
def test_choose_variant_highest_bandwidth_within_max(max_height: int, expected: int) -> None:
    variants = parse_master(MASTER, "http://h/m.m3u8")
    assert choose_variant(variants, max_height).height == expected


def test_choose_variant_when_none_fits_takes_the_smallest() -> None:
    variants = [Variant("a", 100, 1280, 720), Variant("b", 200, 1920, 1080)]
    assert choose_variant(variants, 480).uri == "a"


def test_choose_variant_without_resolution_uses_bandwidth() -> None:
    variants = [Variant("a", 100), Variant("b", 300), Variant("c", 200, 1920, 1080)]
    assert choose_variant(variants, 720).uri == "b"


def test_media_playlist_segments_keys_and_sequence() -> None:
    playlist = parse_media(MEDIA, "http://h/v/index.m3u8")
    assert playlist.endlist
    assert playlist.media_sequence == 7
    assert playlist.target_duration == 4
    assert playlist.total_duration == pytest.approx(11.5)
    segs = playlist.segments
    assert [s.sequence for s in segs] == [7, 8, 9, 10]
    assert [s.index for s in segs] == [0, 1, 2, 3]
    assert segs[0].key is None
    assert segs[1].uri == "http://h/v/seg1.ts?token=abc"
    assert segs[1].key == Key("AES-128", "http://h/v/key.bin", None)
    assert segs[1].key.iv_for(8) == (8).to_bytes(16, "big")
    assert segs[2].key is not None
    assert segs[2].key.uri == "http://h/k2"
    assert segs[2].key.iv_for(9) == bytes(range(16))
    assert segs[3].key is None


def test_byteranges_and_map() -> None:
    text = """#EXTM3U
#EXT-X-TARGETDURATION:2
#EXT-X-MAP:URI="init.mp4",BYTERANGE="700@0"
#EXTINF:2,
#EXT-X-BYTERANGE:1000@700
media.mp4
#EXTINF:2,
#EXT-X-BYTERANGE:500
media.mp4
#EXT-X-ENDLIST
"""
    playlist = parse_media(text, "http://h/a/b.m3u8")
    assert playlist.init is not None
    assert playlist.init.uri == "http://h/a/init.mp4"
    assert playlist.init.byterange == (700, 0)
    assert [s.byterange for s in playlist.segments] == [(1000, 700), (500, 1700)]


def test_live_playlist_has_no_endlist() -> None:
    text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n"
    assert not parse_media(text, "http://h/x.m3u8").endlist


def test_fingerprint_ignores_query_but_sees_content_changes() -> None:
    base = "#EXTM3U\n#EXTINF:2,\na.ts?t={t}\n#EXTINF:{d},\nb.ts\n#EXT-X-ENDLIST\n"
    one = parse_media(base.format(t=1, d=2), "http://h/x.m3u8").fingerprint()
    assert one == parse_media(base.format(t=2, d=2), "http://h/x.m3u8").fingerprint()
    assert one != parse_media(base.format(t=1, d=3), "http://h/x.m3u8").fingerprint()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello", "no #EXTM3U"),
        ("#EXTM3U\n#EXT-X-ENDLIST\n", "no segments"),
        ("#EXTM3U\na.ts\n", "no #EXTINF"),
        ("#EXTM3U\n#EXTINF:x,\na.ts\n", "bad #EXTINF"),
        ('#EXTM3U\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI="k"\n#EXTINF:1,\na.ts\n', "SAMPLE-AES"),
        ("#EXTM3U\n#EXT-X-KEY:METHOD=AES-128\n#EXTINF:1,\na.ts\n", "no URI"),
        ('#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="k",IV=12\n#EXTINF:1,\na.ts\n', "bad key IV"),
        (MASTER, "master playlist"),
    ],
)
def test_bad_media_playlists(text: str, message: str) -> None:
    with pytest.raises(PlaylistError, match=message):
        parse_media(text, "http://h/x.m3u8")


def test_master_without_variants() -> None:
    with pytest.raises(PlaylistError, match="no variant"):
        parse_master("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n", "http://h/")
