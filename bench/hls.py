"""HLS benchmark: showkeeper's HLS path against `yt-dlp -N 8` on the same stream.

ffmpeg makes a 600-second stream cut into 600 one-second segments; a separate server process
(tests/integration/downloads/servers.py) serves it on 127.0.0.1 and waits 50 ms before every
answer. Then, alternating, several times each:

- showkeeper: the engine's HLS path in-process (playlist, 16 segments in flight, ffmpeg
  remux to MP4, duration check, fsync, atomic rename); `showkeeper fetch` (a new process,
  start-up included) is timed once as well and reported beside it;
- yt-dlp -N 8 (its CLI, ffmpeg given with --ffmpeg-location, output remuxed to MP4).

Both outputs must last the source's duration within 1 s. The medians give the ratio.
Goal: ratio <= 0.5.

Run: .venv/bin/python bench/hls.py [--segments 600] [--delay-ms 50] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ comes first on sys.path, where bench/queue.py would shadow the
# standard library's queue module; the repository root is needed for tests.* instead.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from tests.integration.downloads.servers import (  # noqa: E402
    duration_of,
    fetch_argv,
    fetch_env,
    make_hls,
    playlist_duration,
)

from showkeeper.config import load_settings  # noqa: E402
from showkeeper.domain.candidates import Candidate  # noqa: E402
from showkeeper.downloads.engine import download  # noqa: E402
from showkeeper.ffmpeg import ffmpeg_exe  # noqa: E402
from showkeeper.logging import setup_logging  # noqa: E402
from showkeeper.net import HttpClient  # noqa: E402

GOAL = 0.5


def start_server(directory: Path, delay: float) -> tuple[subprocess.Popen[str], int]:
    args = [sys.executable, "-m", "tests.integration.downloads.servers", "--dir", str(directory)]
    args += ["--delay", str(delay)]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        sys.exit(f"server did not start: {line!r}")
    return proc, int(line.split()[1])


async def showkeeper(url: str, out: Path, settings) -> float:
    start = time.perf_counter()
    limit = 2 * settings.download_connections
    async with HttpClient(allowed_networks=["127.0.0.0/8"], per_host_limit=limit) as client:
        await download([Candidate(url, kind="hls")], out, client=client, settings=settings)
    return time.perf_counter() - start


def ytdlp(url: str, out: Path) -> float:
    exe = shutil.which("yt-dlp") or str(Path(sys.executable).with_name("yt-dlp"))
    args = [exe, "-N", "8", "--ffmpeg-location", ffmpeg_exe(), "--no-part", "-q"]
    args += ["--no-progress", "--no-cache-dir", "--remux-video", "mp4", "-o", str(out), url]
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--segments", type=int, default=600)
    parser.add_argument("--delay-ms", type=float, default=50)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    setup_logging("WARNING")
    with tempfile.TemporaryDirectory(prefix="bench-hls-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        playlist = make_hls(work / "stream", seconds=options.segments, size="320x180", hls_time=1)
        made_s = time.perf_counter() - started
        source_s = playlist_duration(playlist)
        segments = len(list(playlist.parent.glob("*.ts")))
        settings = load_settings(
            env_file=None, data_dir=work / "data", allowed_private_networks="127.0.0.0/8"
        )
        out_dir = work / "out"
        out_dir.mkdir()
        server, port = start_server(playlist.parent, options.delay_ms / 1000)
        url = f"http://127.0.0.1:{port}/{playlist.name}"
        ours, theirs = out_dir / "sk.mp4", out_dir / "ytdlp.mp4"
        times: dict[str, list[float]] = {"showkeeper": [], "yt-dlp": []}
        try:
            for _ in range(options.runs):
                for path in (ours, theirs):
                    path.unlink(missing_ok=True)
                times["yt-dlp"].append(ytdlp(url, theirs))
                times["showkeeper"].append(asyncio.run(showkeeper(url, ours, settings)))
                for path in (ours, theirs):
                    got = duration_of(path)
                    if abs(got - source_s) > 1.0:
                        sys.exit(f"{path.name} lasts {got} s, the source {source_s} s")
            ours.unlink()
            started = time.perf_counter()
            subprocess.run(
                fetch_argv(url, ours), env=fetch_env(work / "data"), check=True, cwd=work
            )
            cli_s = time.perf_counter() - started
            if abs(duration_of(ours) - source_s) > 1.0:
                sys.exit("showkeeper fetch produced a wrong duration")
        finally:
            server.kill()
            server.wait()
    sk, ref = statistics.median(times["showkeeper"]), statistics.median(times["yt-dlp"])
    print(f"made {segments} segments in {made_s:.1f} s; runs: "
          f"{json.dumps({k: [round(x, 2) for x in v] for k, v in times.items()})}")  # fmt: skip
    line = {
        "bench": "hls",
        "segments": segments,
        "delay_ms": options.delay_ms,
        "source_s": round(source_s, 2),
        "showkeeper_s": round(sk, 3),
        "showkeeper_fetch_cli_s": round(cli_s, 3),
        "reference": "yt-dlp -N 8",
        "reference_s": round(ref, 3),
        "ratio": round(sk / ref, 3),
        "goal": GOAL,
        "durations_ok": True,
        "cpus": os.cpu_count(),
    }
    print(json.dumps(line))


if __name__ == "__main__":
    main()
