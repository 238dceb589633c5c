"""Which ffmpeg showkeeper runs: the one on PATH, else the imageio-ffmpeg wheel's binary."""

from __future__ import annotations

import functools
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
