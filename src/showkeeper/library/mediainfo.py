"""What is inside a media file (codecs, resolution, runtime, languages), read with ffprobe.

Reads are cached per file by (path, size, mtime), so a file is probed once and again only
after it changes. The cache is a service of the server (``ctx.service(MediaInfoCache)``);
without it, callers probe every time.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from showkeeper.ffmpeg import find_ffprobe
from showkeeper.logging import get_logger

log = get_logger(__name__)

PROBE_TIMEOUT_S = 30.0
MAX_PROBE_OUTPUT = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What ffprobe said about a file; ``ok`` is False when it could not be read."""

    ok: bool
    video_codec: str | None = None
    width: int = 0
    height: int = 0
    fps: float = 0.0
    video_bitrate: int = 0
    video_bit_depth: int = 0
    audio_codec: str | None = None
    audio_channels: float = 0.0
    audio_bitrate: int = 0
    audio_streams: int = 0
    audio_languages: tuple[str, ...] = ()
    subtitle_languages: tuple[str, ...] = ()
    duration_s: float = 0.0
    error: str | None = field(default=None, compare=False)


def _int(value: Any) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


def _fps(value: Any) -> float:
    if not isinstance(value, str) or "/" not in value:
        return 0.0
    num, _, den = value.partition("/")
    try:
        return round(float(num) / float(den), 3) if float(den) else 0.0
    except ValueError:
        return 0.0


def _language(stream: dict[str, Any]) -> str:
    tags = stream.get("tags")
    lang = tags.get("language") if isinstance(tags, dict) else None
    return str(lang)[:8] if isinstance(lang, str) and lang.strip() else "und"


def parse_probe(data: dict[str, Any]) -> MediaInfo:
    """ffprobe's ``-show_format -show_streams`` JSON -> MediaInfo (pure, for tests too)."""
    streams = [s for s in data.get("streams") or [] if isinstance(s, dict)]
    video = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video"
            and not (s.get("disposition") or {}).get("attached_pic")
        ),
        None,
    )
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    subtitles = [s for s in streams if s.get("codec_type") == "subtitle"]
    fmt = data.get("format") if isinstance(data.get("format"), dict) else {}
    first_audio = audio[0] if audio else {}
    return MediaInfo(
        ok=True,
        video_codec=str(video.get("codec_name")) if video and video.get("codec_name") else None,
        width=_int(video.get("width")) if video else 0,
        height=_int(video.get("height")) if video else 0,
        fps=_fps(video.get("avg_frame_rate")) if video else 0.0,
        video_bitrate=_int(video.get("bit_rate")) if video else 0,
        video_bit_depth=_int(video.get("bits_per_raw_sample")) if video else 0,
        audio_codec=str(first_audio["codec_name"]) if first_audio.get("codec_name") else None,
        audio_channels=float(_int(first_audio.get("channels"))),
        audio_bitrate=_int(first_audio.get("bit_rate")),
        audio_streams=len(audio),
        audio_languages=tuple(_language(s) for s in audio),
        subtitle_languages=tuple(_language(s) for s in subtitles),
        duration_s=float(_int(fmt.get("duration"))) if fmt else 0.0,
    )


async def probe_file(path: str) -> MediaInfo:
    """Run ffprobe on one file (argv, no shell; bounded time and output)."""
    exe = find_ffprobe().path
    if exe is None:
        return MediaInfo(ok=False, error="no ffprobe found; install ffmpeg (it ships ffprobe)")
    argv = [exe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", path]
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
        )
    except OSError as exc:
        return MediaInfo(ok=False, error=f"ffprobe could not run: {exc.strerror}")
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), PROBE_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return MediaInfo(ok=False, error=f"ffprobe took longer than {PROBE_TIMEOUT_S:.0f} s")
    if proc.returncode != 0 or len(out) > MAX_PROBE_OUTPUT:
        return MediaInfo(ok=False, error="ffprobe could not read the file")
    try:
        data = json.loads(out)
    except ValueError:
        return MediaInfo(ok=False, error="ffprobe answered no JSON")
    return parse_probe(data) if isinstance(data, dict) else MediaInfo(ok=False)


class MediaInfoCache:
    """Probe results by (path, size, mtime_ns), newest ``max_entries`` kept; a service."""

    name = "media info cache"

    def __init__(self, max_entries: int = 20_000, concurrency: int = 4) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[tuple[int, int], MediaInfo]] = OrderedDict()
        self._limit = asyncio.Semaphore(concurrency)
        self.probes = 0  # how many times ffprobe ran (tests read it)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self._entries.clear()

    async def get(self, path: str) -> MediaInfo:
        """The file's media info, probed again only when its size or mtime changed."""
        try:
            st = await asyncio.to_thread(os.stat, path)
        except OSError:
            return MediaInfo(ok=False, error="the file is not there")
        stamp = (st.st_size, st.st_mtime_ns)
        hit = self._entries.get(path)
        if hit is not None and hit[0] == stamp:
            self._entries.move_to_end(path)
            return hit[1]
        async with self._limit:
            info = await probe_file(path)
            self.probes += 1
        self._entries[path] = (stamp, info)
        self._entries.move_to_end(path)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return info


async def media_info(cache: MediaInfoCache | None, path: str) -> MediaInfo:
    """Through the cache when the process runs one, else a probe."""
    if cache is not None:
        return await cache.get(path)
    return await probe_file(path)


def _modified(path: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(os.stat(path).st_mtime, UTC)
    except OSError:
        return None


async def file_modified(path: str) -> datetime | None:
    """When the file last changed (UTC), or None when it is not there."""
    return await asyncio.to_thread(_modified, path)
