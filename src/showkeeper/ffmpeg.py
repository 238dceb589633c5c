"""Which ffmpeg (and ffprobe) showkeeper runs: the one on PATH, else the imageio-ffmpeg wheel's binary."""

from __future__ import annotations

import functools
import os
import shutil
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FfmpegInfo:
    path: str | None
    origin: str  # "PATH", "imageio-ffmpeg" or "missing"


@functools.cache
def find_ffmpeg() -> FfmpegInfo:
    on_path = shutil.which("ffmpeg")
    if on_path:
        return FfmpegInfo(on_path, "PATH")
    try:
        import imageio_ffmpeg

        return FfmpegInfo(imageio_ffmpeg.get_ffmpeg_exe(), "imageio-ffmpeg")
    except (ImportError, RuntimeError):
        return FfmpegInfo(None, "missing")


def ffmpeg_exe() -> str:
    """The ffmpeg binary to run; raises RuntimeError with what to do when there is none."""
    info = find_ffmpeg()
    if info.path is None:
        raise RuntimeError("no ffmpeg found: install ffmpeg or the imageio-ffmpeg package")
    return info.path


def run_env(exe: str) -> dict[str, str] | None:
    """The environment to run ``exe`` in; None means this process's own.

    The imageio-ffmpeg wheels before 0.8 ship a static build whose C library crashes
    (SIGSEGV) when it loads the system's iconv modules, which ffmpeg's MPEG-TS reader makes
    it do: every HLS remux. That binary runs without them (it only loses the conversion of a
    few legacy character sets in stream titles).
    """
    if "imageio_ffmpeg" not in exe:
        return None
    return {**os.environ, "GCONV_PATH": "/nonexistent"}


@functools.cache
def find_ffprobe() -> FfmpegInfo:
    """ffprobe on PATH, else beside the ffmpeg binary (Debian's ffmpeg package ships both).

    The imageio-ffmpeg wheel has no ffprobe: then origin is "missing" and callers do without
    (downloads/verify.py reads ``ffmpeg -i``; quality and media info stay unknown).
    """
    on_path = shutil.which("ffprobe")
    if on_path:
        return FfmpegInfo(on_path, "PATH")
    ffmpeg = find_ffmpeg().path
    if ffmpeg:
        beside = os.path.join(os.path.dirname(ffmpeg), "ffprobe")
        if os.access(beside, os.X_OK):
            return FfmpegInfo(beside, "beside ffmpeg")
    return FfmpegInfo(None, "missing")
