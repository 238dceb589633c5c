"""The demo's sample media, made with ffmpeg on first use and cached under the data folder."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from showkeeper.ffmpeg import ffmpeg_exe

CLIP_SECONDS = 20
FEED_EPISODES = 12
HLS_EPISODES = 3
DIR_EPISODES = 4
# (name, size, bandwidth) of the HLS variants
HLS_VARIANTS = (("360p", "640x360", 900_000), ("180p", "320x180", 300_000))
_DONE = ".complete"

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class DemoMedia:
    root: Path

    def feed_clip(self, n: int) -> Path:
        return self.root / "feed" / f"open-sky-{n:02d}.mp4"

    def dir_clip(self, n: int) -> Path:
        return self.root / "files" / "Season 01" / f"Harbor Walks - S01E{n:02d}.mp4"

    def hls_dir(self, n: int) -> Path:
        return self.root / "hls" / f"e{n:02d}"


def _codecs(exe: str) -> list[str]:
    encoders = subprocess.run(
        [exe, "-hide_banner", "-encoders"], capture_output=True, text=True, check=False
    ).stdout
    if " libx264 " in encoders and " aac " in encoders:
        return ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
    return ["-c:v", "mpeg2video", "-q:v", "4", "-c:a", "mp2"]


def _inputs(size: str, hue: int, tone: int, seconds: int = CLIP_SECONDS) -> list[str]:
    return [
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25,hue=h={hue}",
        "-f", "lavfi", "-i", f"sine=frequency={tone}:sample_rate=44100",
        "-t", str(seconds),
    ]  # fmt: skip


def _run(args: list[str]) -> None:
    subprocess.run(args, check=True, capture_output=True)


def _clip(exe: str, codecs: list[str], path: Path, *, size: str, hue: int, tone: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp" + path.suffix)
    _run([exe, "-hide_banner", "-y", *_inputs(size, hue, tone), *codecs, str(tmp)])
    tmp.replace(path)


def _hls(exe: str, codecs: list[str], out: Path, *, hue: int, tone: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    master = ["#EXTM3U", "#EXT-X-VERSION:3"]
    for name, size, bandwidth in HLS_VARIANTS:
        args = [exe, "-hide_banner", "-y", *_inputs(size, hue, tone), *codecs]
        args += ["-g", "50", "-keyint_min", "50", "-sc_threshold", "0"]
        args += ["-f", "hls", "-hls_time", "2", "-hls_list_size", "0", "-hls_playlist_type", "vod"]
        args += ["-hls_segment_filename", str(out / f"{name}_%03d.ts"), str(out / f"{name}.m3u8")]
        _run(args)
        master += [f"#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},RESOLUTION={size}", f"{name}.m3u8"]
    (out / "master.m3u8").write_text("\n".join(master) + "\n", encoding="utf-8")


def prepare_media(root: Path, progress: Progress | None = None) -> DemoMedia:
    """Make the clips once (about a minute on a small machine); later runs reuse them."""
    media = DemoMedia(root)
    if (root / _DONE).exists():
        return media
    say = progress or (lambda _text: None)
    shutil.rmtree(root, ignore_errors=True)
    exe = ffmpeg_exe()
    codecs = _codecs(exe)
    total = FEED_EPISODES + HLS_EPISODES + DIR_EPISODES
    done = 0
    for n in range(1, FEED_EPISODES + 1):
        _clip(exe, codecs, media.feed_clip(n), size="640x360", hue=n * 29, tone=220 + n * 40)
        done += 1
        say(f"making sample clips: {done}/{total}")
    for n in range(1, HLS_EPISODES + 1):
        _hls(exe, codecs, media.hls_dir(n), hue=180 + n * 40, tone=330 + n * 55)
        done += 1
        say(f"making sample clips: {done}/{total}")
    for n in range(1, DIR_EPISODES + 1):
        _clip(exe, codecs, media.dir_clip(n), size="640x360", hue=90 + n * 50, tone=500 + n * 30)
        done += 1
        say(f"making sample clips: {done}/{total}")
    (root / _DONE).write_text("ok\n", encoding="utf-8")
    return media
