"""Read an ISO base media file (MP4, M4A, M4V, MOV) far enough to tell that it is media:
its top-level boxes tile the file exactly, it has media data, and its movie header gives a
duration and its tracks an audio or video handler.

The download path's only-media check (downloads/verify.py) asks this first: for the
containers podcasts and most video sites serve, it answers in a few reads instead of an
ffprobe process (tens of milliseconds and tens of megabytes each). Anything it does not
fully understand (fragmented files, unusual layouts, a moov past the read limit) answers
None, and ffprobe decides as before; it never accepts what it could not read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

MAX_MOOV_BYTES = 32 * 1024 * 1024
"""A movie box larger than this is left to ffprobe (a long film's is a few megabytes)."""
_HANDLERS = {b"vide": "video", b"soun": "audio"}
_CONTAINERS = (b"trak", b"mdia")


@dataclass(frozen=True, slots=True)
class BmffInfo:
    streams: tuple[str, ...]
    """"video" and/or "audio", one per track with such a handler, in track order."""
    duration_s: float


def _boxes(data: bytes | memoryview, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, box end) of the boxes tiling data[start:end]; [] if they do not."""
    out: list[tuple[bytes, int, int]] = []
    pos = start
    while pos < end:
        if end - pos < 8:
            return []
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if end - pos < 16:
                return []
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return []
        out.append((bytes(kind), pos + header, pos + size))
        pos += size
    return out


def _top_level(handle: BinaryIO, file_size: int) -> list[tuple[bytes, int, int]] | None:
    """The file's top-level boxes as (type, payload offset, end offset), or None when their
    sizes do not add up to the file's (cut short, padded with junk, not BMFF)."""
    out: list[tuple[bytes, int, int]] = []
    pos = 0
    while pos < file_size:
        handle.seek(pos)
        header = handle.read(16)
        if len(header) < 8:
            return None
        size, kind = struct.unpack_from(">I4s", header)
        head_len = 8
        if size == 1:
            if len(header) < 16:
                return None
            (size,) = struct.unpack_from(">Q", header, 8)
            head_len = 16
        elif size == 0:
            size = file_size - pos
        if size < head_len or pos + size > file_size:
            return None
        out.append((bytes(kind), pos + head_len, pos + size))
        pos += size
        if len(out) > 10_000:  # a real file has a handful
            return None
    return out


def _duration(mvhd: memoryview) -> float | None:
    if len(mvhd) < 4:
        return None
    version = mvhd[0]
    if version == 1 and len(mvhd) >= 32:
        timescale, duration = struct.unpack_from(">IQ", mvhd, 20)
    elif version == 0 and len(mvhd) >= 20:
        timescale, duration = struct.unpack_from(">II", mvhd, 12)
    else:
        return None
    if timescale == 0 or duration == 0 or duration == 0xFFFFFFFF:
        return None
    return float(duration) / float(timescale)


def _handler(trak: memoryview) -> str | None:
    """The handler of a trak (trak > mdia > hdlr), "video"/"audio" or None."""
    level = trak
    for container in _CONTAINERS[1:]:
        found = [(s, e) for kind, s, e in _boxes(level, 0, len(level)) if kind == container]
        if len(found) != 1:
            return None
        start, end = found[0]
        level = level[start:end]
    for kind, start, end in _boxes(level, 0, len(level)):
        if kind == b"hdlr" and end - start >= 12:
            return _HANDLERS.get(bytes(level[start + 8 : start + 12]))
    return None


def read_bmff(handle: BinaryIO, file_size: int) -> BmffInfo | None:
    """What the ISO base media file open in ``handle`` holds, or None when this reader cannot
    vouch for it (then ask ffprobe)."""
    boxes = _top_level(handle, file_size)
    if not boxes or boxes[0][0] != b"ftyp":
        return None
    kinds = [kind for kind, _, _ in boxes]
    if kinds.count(b"moov") != 1 or b"moof" in kinds:
        return None  # fragmented or odd: ffprobe knows better
    if not any(kind == b"mdat" and end > start for kind, start, end in boxes):
        return None
    ((start, end),) = [(s, e) for kind, s, e in boxes if kind == b"moov"]
    if end - start > MAX_MOOV_BYTES:
        return None
    handle.seek(start)
    moov = memoryview(handle.read(end - start))
    if len(moov) != end - start:
        return None
    children = _boxes(moov, 0, len(moov))
    if not children:
        return None
    duration: float | None = None
    streams: list[str] = []
    for kind, s, e in children:
        if kind == b"mvhd":
            duration = _duration(moov[s:e])
        elif kind == b"mvex":
            return None  # fragments hold the samples
        elif kind == b"trak":
            handler = _handler(moov[s:e])
            if handler is not None:
                streams.append(handler)
    if duration is None or duration <= 0 or not streams:
        return None
    return BmffInfo(tuple(streams), duration)
