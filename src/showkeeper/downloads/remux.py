"""ffmpeg steps of an HLS download: join segments into one container (``-c copy``, no
re-encode) while they arrive, and read the result's duration."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import re
import struct
from collections.abc import AsyncIterator
from pathlib import Path

from showkeeper.downloads.retry import check_cancel
from showkeeper.downloads.transfer import TransferError
from showkeeper.ffmpeg import run_env

__all__ = ["media_duration", "mp4_duration", "remux"]

_DURATION = re.compile(r"Duration:\s*(\d+):(\d\d):(\d\d(?:\.\d+)?)")
_FORMATS = {"mp4": "mp4", "mkv": "matroska"}
_TS_PACKET = 188
_FEED_CHUNK = 4 * 1024 * 1024


def _input_format(first: bytes) -> list[str]:
    """``-f mpegts`` when the data starts like a transport stream, else let ffmpeg probe."""
    if first[:1] == b"\x47" and (len(first) <= _TS_PACKET or first[_TS_PACKET] == 0x47):
        return ["-f", "mpegts"]
    return []


async def remux(
    ffmpeg: str,
    inputs: AsyncIterator[Path],
    out: Path,
    *,
    container: str,
    cancel: asyncio.Event | None = None,
) -> None:
    """Pipe ``inputs`` (in order, as one byte stream) through ffmpeg into ``out``.

    ffmpeg starts with the first input, so joining overlaps with a download that yields
    segments as they complete.

    Args:
        ffmpeg: The ffmpeg binary.
        inputs: Files whose concatenation is the stream (init section first, if any).
        out: Output file (overwritten).
        container: ``"mp4"`` or ``"mkv"``.
        cancel: Stops ffmpeg when set.

    Raises:
        TransferError: If ffmpeg fails; the message carries its last error line.
        TransferCancelled: If ``cancel`` is set while running.
        Whatever ``inputs`` raises (ffmpeg is killed first).
    """
    first = await anext(inputs)
    with open(first, "rb") as fh:
        head = fh.read(_TS_PACKET + 1)
    args = [ffmpeg, "-hide_banner", "-nostats", "-loglevel", "error", "-y"]
    args += [*_input_format(head), "-i", "pipe:0", "-map", "0:v?", "-map", "0:a?", "-c", "copy"]
    args += ["-f", _FORMATS[container], str(out)]
    proc = await asyncio.create_subprocess_exec(
        *args,
        env=run_env(ffmpeg),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stderr is not None
    stdin, stderr = proc.stdin, proc.stderr

    async def feed_one(path: Path) -> None:
        check_cancel(cancel)
        with open(path, "rb") as fh:
            while chunk := fh.read(_FEED_CHUNK):
                stdin.write(chunk)
                await stdin.drain()

    async def feed() -> None:
        try:
            await feed_one(first)
            async for path in inputs:
                await feed_one(path)
        except (BrokenPipeError, ConnectionResetError):
            pass  # ffmpeg stopped reading; its exit status and stderr tell why
        finally:
            stdin.close()

    try:
        _, errors = await asyncio.gather(feed(), stderr.read())
        code = await proc.wait()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise
    if code != 0:
        text = errors.decode("utf-8", "replace").strip()
        if "No space left on device" in text:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(out))
        lines = text.splitlines()
        detail = lines[-1] if lines else f"exit status {code}"
        raise TransferError(f"ffmpeg could not join the segments: {detail}")
    check_cancel(cancel)


def mp4_duration(path: Path) -> float | None:
    """The movie duration from an MP4's ``moov/mvhd`` box, or None if there is none."""
    with open(path, "rb") as fh:
        end = fh.seek(0, 2)
        position = 0
        moov_end = None
        while position + 8 <= end:
            fh.seek(position)
            size, kind = struct.unpack(">I4s", fh.read(8))
            header = 8
            if size == 1:
                size = struct.unpack(">Q", fh.read(8))[0]
                header = 16
            elif size == 0:
                size = (moov_end or end) - position
            if size < header:
                return None
            if kind == b"moov":
                moov_end = position + size
                position += header  # descend
                continue
            if kind == b"mvhd":
                version = fh.read(1)[0]
                fh.read(3)
                if version == 1:
                    _, _, timescale, duration = struct.unpack(">QQIQ", fh.read(28))
                else:
                    _, _, timescale, duration = struct.unpack(">IIII", fh.read(16))
                return duration / timescale if timescale else None
            position += size
    return None


async def media_duration(ffmpeg: str, path: Path) -> float | None:
    """A media file's duration in seconds (MP4 read directly, else as ffmpeg reports it)."""
    if path.suffix == ".mp4":
        found = await asyncio.to_thread(mp4_duration, path)
        if found is not None:
            return found
    proc = await asyncio.create_subprocess_exec(
        ffmpeg,
        "-hide_banner",
        "-i",
        str(path),
        env=run_env(ffmpeg),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, errors = await proc.communicate()
    match = _DURATION.search(errors.decode("utf-8", "replace"))
    if match is None:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
