"""The in-process MP4 reader (domain/bmff.py) agrees with ffprobe on real files made by
ffmpeg, and answers None (ffprobe decides) for anything it cannot vouch for."""

from __future__ import annotations

import json
import os
import struct
import subprocess
from pathlib import Path

import pytest

from showkeeper.domain.bmff import BmffInfo, read_bmff
from showkeeper.downloads.verify import NotMediaError, identify_media
from showkeeper.ffmpeg import ffmpeg_exe, find_ffprobe
from tests.integration.downloads.servers import make_media


def bmff(path: Path) -> BmffInfo | None:
    with path.open("rb") as handle:
        return read_bmff(handle, path.stat().st_size)


JSON = ("-of", "json")


def ffprobe(path: Path) -> tuple[list[str], float]:
    exe = find_ffprobe().path
    assert exe is not None
    out = subprocess.run(
        [
            exe,
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type:format=duration",
            *JSON,
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    data = json.loads(out)
    return [s["codec_type"] for s in data["streams"]], float(data["format"]["duration"])


def free_box(size: int) -> bytes:
    return struct.pack(">I4s", size, b"free") + os.urandom(size - 8)


def copy_cmd(src: Path) -> list[str]:
    return [ffmpeg_exe(), "-loglevel", "error", "-i", str(src), "-c", "copy"]


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bmff")
    video = make_media(root / "av.mp4", seconds=2)
    faststart = root / "fast.mp4"
    subprocess.run(
        [*copy_cmd(video), "-movflags", "+faststart", str(faststart)],
        check=True,
    )
    audio = root / "a.m4a"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=d=3",
            "-c:a",
            "aac",
            str(audio),
        ],
        check=True,
    )
    fragmented = root / "frag.mp4"
    subprocess.run(
        [*copy_cmd(video), "-movflags", "frag_keyframe+empty_moov", str(fragmented)],
        check=True,
    )
    padded = root / "padded.mp4"  # how bench/peer_feed.py makes 8 MB episodes
    padded.write_bytes(video.read_bytes() + free_box(1_000_000))
    return {
        "video": video,
        "faststart": faststart,
        "audio": audio,
        "fragmented": fragmented,
        "padded": padded,
    }


@pytest.mark.parametrize("name", ["video", "faststart", "audio", "padded"])
def test_agrees_with_ffprobe(media: dict[str, Path], name: str) -> None:
    info = bmff(media[name])
    assert info is not None
    streams, duration = ffprobe(media[name])
    assert sorted(info.streams) == sorted(streams)
    assert abs(info.duration_s - duration) < 0.1


def test_fragmented_is_left_to_ffprobe(media: dict[str, Path]) -> None:
    assert bmff(media["fragmented"]) is None


@pytest.mark.parametrize(
    "damage",
    ["cut", "trailing junk", "no moov", "no mdat", "box past the end", "tiny", "two moov"],
)
def test_what_it_cannot_vouch_for_is_none(
    media: dict[str, Path], tmp_path: Path, damage: str
) -> None:
    data = media["video"].read_bytes()
    boxes: list[tuple[bytes, bytes]] = []
    pos = 0
    while pos < len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        boxes.append((kind, data[pos : pos + size]))
        pos += size
    whole = {kind: raw for kind, raw in boxes}
    if damage == "cut":
        out = data[: len(data) - 100]
    elif damage == "trailing junk":
        out = data + os.urandom(5000)
    elif damage == "no moov":
        out = b"".join(raw for kind, raw in boxes if kind != b"moov")
    elif damage == "no mdat":
        out = b"".join(raw for kind, raw in boxes if kind != b"mdat")
    elif damage == "box past the end":
        out = data + struct.pack(">I4s", 1 << 30, b"free")
    elif damage == "tiny":
        out = data[:12]
    else:
        out = data + whole[b"moov"]
    path = tmp_path / "damaged.mp4"
    path.write_bytes(out)
    assert bmff(path) is None


async def test_identify_media_uses_it_and_still_refuses_fakes(
    media: dict[str, Path], tmp_path: Path
) -> None:
    info = await identify_media(media["padded"], source="padded")
    assert info.ext == "mp4" and set(info.streams) == {"video", "audio"}
    # the right magic bytes and a moov that says nothing: refused (by ffprobe, as before)
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(struct.pack(">I4sI", 16, b"ftyp", 0) + b"isom" + free_box(5000))
    with pytest.raises(NotMediaError, match="is not media"):
        await identify_media(fake, source="fake")
