"""Which ffmpeg showkeeper runs: the one on PATH, else the imageio-ffmpeg wheel's binary."""

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


@functools.cache
def find_ffprobe() -> str | None:
    """ffprobe on PATH or beside the ffmpeg in use (Debian's ffmpeg package ships both);
    None for the imageio-ffmpeg wheel, which has none (downloads/verify.py then reads
    ``ffmpeg -i``)."""
    on_path = shutil.which("ffprobe")
    if on_path:
        return on_path
    ffmpeg = find_ffmpeg().path
    if ffmpeg is not None:
        beside = os.path.join(os.path.dirname(ffmpeg), "ffprobe")
        if os.access(beside, os.X_OK):
            return beside
    return None


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
