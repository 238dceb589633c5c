"""Media info read by the real ffprobe from files ffmpeg makes; cached until a file changes."""

from __future__ import annotations

import os
from pathlib import Path

from showkeeper.ffmpeg import find_ffprobe
from showkeeper.library.mediainfo import MediaInfoCache, parse_probe, probe_file
from tests.integration.downloads.servers import make_media


def test_ffprobe_is_found() -> None:
    info = find_ffprobe()
    assert info.path is not None and os.access(info.path, os.X_OK), info


async def test_probe_reads_streams(tmp_path: Path) -> None:
    path = make_media(tmp_path / "a.mp4", seconds=2, size="320x240")
    info = await probe_file(str(path))
    assert info.ok and (info.width, info.height) == (320, 240)
    assert info.video_codec and info.audio_codec and info.audio_streams == 1
    assert 1.5 <= info.duration_s <= 2.5 and info.fps == 25


async def test_unreadable_files_are_reported_not_raised(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 1000)
    assert not (await probe_file(str(junk))).ok
    assert not (await probe_file(str(tmp_path / "absent.mp4"))).ok
    assert not (await MediaInfoCache().get(str(tmp_path / "absent.mp4"))).ok


async def test_cache_probes_again_only_when_the_file_changes(tmp_path: Path) -> None:
    cache = MediaInfoCache()
    path = make_media(tmp_path / "v.mp4", seconds=1, size="320x240")
    first = await cache.get(str(path))
    assert (await cache.get(str(path))) == first and cache.probes == 1
    make_media(tmp_path / "w.mp4", seconds=1, size="640x360")
    os.replace(tmp_path / "w.mp4", path)
    second = await cache.get(str(path))
    assert cache.probes == 2 and (second.width, second.height) == (640, 360)


def test_parse_tolerates_odd_documents() -> None:
    assert parse_probe({}).ok and parse_probe({}).width == 0
    odd = {
        "streams": [
            {"codec_type": "video", "width": "x", "avg_frame_rate": "0/0"},
            {"codec_type": "video", "disposition": {"attached_pic": 1}, "width": 9},
            {"codec_type": "audio", "tags": {"language": "eng"}, "channels": 6},
            {"codec_type": "subtitle", "tags": {"language": ""}},
            "junk",
        ],
        "format": {"duration": "n/a"},
    }
    info = parse_probe(odd)
    assert info.width == 0 and info.fps == 0.0 and info.audio_channels == 6.0
    assert info.audio_languages == ("eng",) and info.subtitle_languages == ("und",)
