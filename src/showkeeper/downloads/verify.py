"""Only media reaches the library: a downloaded file is accepted when its first bytes are a
container we write (domain/sniff.py) AND it has an audio or video stream with a duration:
read in-process for a plain MP4/M4A/MOV (domain/bmff.py, when it can vouch for the whole
file), else by ffprobe. The extension is the container's. Every path calls :func:`identify_media` before
its commit: direct, HLS, yt-dlp (and through them any source plugin's candidates).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from showkeeper.domain.bmff import BmffInfo, read_bmff
from showkeeper.domain.sniff import HEAD_BYTES, container_of, describe
from showkeeper.downloads.transfer import TransferError
from showkeeper.ffmpeg import find_ffmpeg, find_ffprobe, run_env

PROBE_TIMEOUT_S = 60.0
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_STREAM = re.compile(r"Stream #\d+:\d+.*?: (Video|Audio):")


class NotMediaError(TransferError):
    """The file is not audio or video of a container showkeeper writes (never retried)."""


@dataclass(frozen=True, slots=True)
class MediaInfo:
    ext: str
    streams: tuple[str, ...]
    """codec types found: "video", "audio"."""
    duration_s: float


async def identify_media(path: Path, *, source: str) -> MediaInfo:
    """What `path` is, or NotMediaError saying why it is refused (`source` names it)."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    ext = container_of(head)
    if ext is None:
        raise NotMediaError(f"{source} is not media: {describe(head)}")
    if head[4:8] == b"ftyp":
        known = await asyncio.to_thread(_read_bmff, path)
        if known is not None:
            return MediaInfo(ext, known.streams, known.duration_s)
    streams, duration = await _streams(path)
    if not streams:
        raise NotMediaError(f"{source} is not media: no audio or video stream in it")
    if not duration or duration <= 0:
        raise NotMediaError(f"{source} is not media: its streams have no duration")
    return MediaInfo(ext, streams, duration)


def _read_bmff(path: Path) -> BmffInfo | None:
    with path.open("rb") as handle:
        return read_bmff(handle, os.fstat(handle.fileno()).st_size)


async def _streams(path: Path) -> tuple[tuple[str, ...], float | None]:
    ffprobe = find_ffprobe().path
    if ffprobe is not None:
        args = [ffprobe, "-v", "error", "-show_entries", "stream=codec_type:format=duration"]
        out = await _run([*args, "-of", "json", str(path)], ffprobe, want="stdout")
        try:
            data = json.loads(out or "{}")
        except ValueError:
            return (), None
        types = tuple(
            str(s.get("codec_type"))
            for s in data.get("streams") or []
            if s.get("codec_type") in ("audio", "video")
        )
        try:
            duration = float((data.get("format") or {}).get("duration") or "nan")
        except (TypeError, ValueError):
            duration = None
        return types, (duration if duration == duration else None)  # NaN: no duration
    ffmpeg = find_ffmpeg().path
    if ffmpeg is None:
        raise TransferError("no ffmpeg found: install ffmpeg or the imageio-ffmpeg package")
    # ffmpeg without an output prints the input's description and exits 1: read that
    err = await _run([ffmpeg, "-hide_banner", "-i", str(path)], ffmpeg, want="stderr")
    types = tuple(m.group(1).lower() for m in _STREAM.finditer(err))
    found = _DURATION.search(err)
    duration = None
    if found:
        h, m, s = found.groups()
        duration = int(h) * 3600 + int(m) * 60 + float(s)
    return types, duration


async def _run(args: list[str], exe: str, *, want: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=run_env(exe),
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), PROBE_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise NotMediaError(
            f"{args[-1]}: reading it took more than {PROBE_TIMEOUT_S:.0f} s"
        ) from None
    return (out if want == "stdout" else err).decode("utf-8", "replace")
