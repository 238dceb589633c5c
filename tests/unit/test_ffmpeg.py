"""Which ffmpeg runs, and how: the wheel's static build runs without the system's iconv."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import imageio_ffmpeg

from showkeeper.ffmpeg import run_env


def test_the_wheels_binary_runs_without_the_systems_iconv_modules() -> None:
    env = run_env(imageio_ffmpeg.get_ffmpeg_exe())
    assert env is not None and env["GCONV_PATH"] == "/nonexistent"
    assert env["PATH"] == os.environ["PATH"]  # the rest of the environment is kept


def test_a_system_ffmpeg_keeps_the_environment() -> None:
    assert run_env("/usr/bin/ffmpeg") is None


def test_the_wheels_binary_remuxes_mpeg_ts_in_that_environment(tmp_path: Path) -> None:
    """The input that crashed it: an MPEG-TS stream (what every HLS download is)."""
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    ts = tmp_path / "in.ts"
    make = [exe, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i"]
    make += ["testsrc=size=64x48:rate=10", "-t", "1", "-c:v", "mpeg2video", "-f", "mpegts"]
    subprocess.run([*make, str(ts)], check=True, env=run_env(exe), timeout=60)
    out = tmp_path / "out.mp4"
    copy = [exe, "-hide_banner", "-loglevel", "error", "-i", str(ts), "-c", "copy", str(out)]
    done = subprocess.run(copy, env=run_env(exe), timeout=60, capture_output=True)
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 0
