"""HLS benchmark: `showkeeper fetch` against the `yt-dlp` CLI on the same HLS stream.

ffmpeg makes a 600-second stream cut into 600 one-second segments; a separate server process
(tests/integration/downloads/servers.py) serves it on 127.0.0.1 and waits 50 ms before every
answer. Every side is a new process timed from spawn to exit, output remuxed to MP4:

- showkeeper: `showkeeper fetch URL -o OUT` (the venv's console script, a fresh data dir per
  run, loopback allowed, every other setting default: download_connections 8, so the HLS
  engine keeps 2 x 8 = 16 segments in flight; see downloads/engine.py). Its output is the
  MP4, fsynced, with its duration checked;
- showkeeper at the reference's concurrency: the same with SHOWKEEPER_DOWNLOAD_CONNECTIONS=4,
  8 segments in flight, like `yt-dlp -N 8`;
- yt-dlp -N 8 and yt-dlp -N 16 (`--remux-video mp4`, the same ffmpeg, quiet).

(a) showkeeper at its defaults vs yt-dlp -N 8 (the headline; goal <= 0.5) and vs -N 16.
(b) showkeeper with 8 in flight against the physical floor, segments x delay / 8: no client
    with 8 requests in flight can be faster. Goal <= 1.2 x floor. yt-dlp -N 8 is shown
    against the same floor.

The engine in-process (no start-up, 16 in flight) is reported as an extra key. One uncounted
warm-up of each, then RUNS rounds in alternating order; medians count. Every output must last
the source's duration within 1 s, and the last output of each tool must decode without an
error; a wrong output exits non-zero.

Run: .venv/bin/python bench/hls.py [--segments 600] [--delay-ms 50] [--runs 5]
Quick: .venv/bin/python bench/hls.py --segments 60 --runs 1
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
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ comes first on sys.path, where bench/queue.py would shadow the
# standard library's queue module; the repository root is needed for tests.* instead.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from tests.integration.downloads.servers import (  # noqa: E402
    decode_errors,
    duration_of,
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
FLOOR_GOAL = 1.2
SAME_CONCURRENCY = 8  # yt-dlp -N 8; showkeeper keeps 2 x download_connections in flight


def console_script(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        sys.exit(f"{name} not found beside {sys.executable} or on PATH")
    return found


def start_server(directory: Path, delay: float) -> tuple[subprocess.Popen[str], int]:
    args = [sys.executable, "-m", "tests.integration.downloads.servers", "--dir", str(directory)]
    args += ["--delay", str(delay)]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("PORT "):
        proc.kill()
        sys.exit(f"server did not start: {line!r}")
    return proc, int(line.split()[1])


def timed(argv: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{argv[0]} exited {done.returncode}: {done.stderr.decode()[-3000:]}")
    return elapsed


async def in_process(url: str, out: Path, data_dir: Path) -> float:
    """The engine alone, as the worker runs it (settings default), without process start."""
    settings = load_settings(
        env_file=None, data_dir=data_dir, allowed_private_networks="127.0.0.0/8"
    )
    start = time.perf_counter()
    limit = max(8, 2 * settings.download_connections)  # what `fetch` and the worker give it
    async with HttpClient(allowed_networks=["127.0.0.0/8"], per_host_limit=limit) as client:
        await download([Candidate(url, kind="hls")], out, client=client, settings=settings)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=600)
    parser.add_argument("--delay-ms", type=float, default=50)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    setup_logging("WARNING")
    showkeeper, ytdlp = console_script("showkeeper"), console_script("yt-dlp")
    ffmpeg = ffmpeg_exe()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWKEEPER_")}
    with tempfile.TemporaryDirectory(prefix="bench-hls-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        playlist = make_hls(work / "stream", seconds=options.segments, size="320x180", hls_time=1)
        made_s = time.perf_counter() - started
        source_s = playlist_duration(playlist)
        segments = len(list(playlist.parent.glob("*.ts")))
        out_dir = work / "out"
        out_dir.mkdir()
        server, port = start_server(playlist.parent, options.delay_ms / 1000)
        url = f"http://127.0.0.1:{port}/{playlist.name}"
        fresh = iter(range(1_000_000))

        def sk_env(connections: int | None) -> dict[str, str]:
            env = {**base_env, "SHOWKEEPER_DATA_DIR": str(work / f"data-{next(fresh)}")}
            env["SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS"] = "127.0.0.0/8"
            if connections is not None:
                env["SHOWKEEPER_DOWNLOAD_CONNECTIONS"] = str(connections)
            return env

        def sk_cli(connections: int | None) -> Callable[[Path], float]:
            def run(out: Path) -> float:
                argv = [showkeeper, "fetch", url, "-o", str(out)]
                return timed(argv, env=sk_env(connections), cwd=work)

            return run

        def ytdlp_cli(n: int) -> Callable[[Path], float]:
            def run(out: Path) -> float:
                argv = [ytdlp, "-N", str(n), "--ffmpeg-location", ffmpeg, "--no-part", "-q"]
                argv += ["--no-progress", "--no-cache-dir", "--remux-video", "mp4"]
                return timed([*argv, "-o", str(out), url], env=base_env, cwd=work)

            return run

        def engine(out: Path) -> float:
            return asyncio.run(in_process(url, out, work / f"data-{next(fresh)}"))

        sides: dict[str, Callable[[Path], float]] = {
            "showkeeper": sk_cli(None),
            "showkeeper_n8": sk_cli(SAME_CONCURRENCY // 2),
            "ytdlp_n8": ytdlp_cli(8),
            "ytdlp_n16": ytdlp_cli(16),
            "in_process": engine,
        }
        times: dict[str, list[float]] = {name: [] for name in sides}
        durations: dict[str, list[float]] = {name: [] for name in sides}
        decode: dict[str, str] = {}
        try:
            for run in range(options.runs + 1):  # run 0: warm-up, not counted
                order = list(sides) if run % 2 == 0 else list(reversed(sides))
                for name in order:
                    out = out_dir / f"{name}.mp4"
                    out.unlink(missing_ok=True)
                    elapsed = sides[name](out)
                    got = duration_of(out) if out.exists() else -1.0
                    if run:
                        times[name].append(elapsed)
                        durations[name].append(got)
                    if abs(got - source_s) > 1.0:
                        sys.exit(f"{name}: {out.name} lasts {got} s, the source {source_s} s")
            for name in sides:
                decode[name] = decode_errors(out_dir / f"{name}.mp4")
        finally:
            server.kill()
            server.wait()
    med = {name: statistics.median(v) for name, v in times.items()}
    floor = segments * options.delay_ms / 1000 / SAME_CONCURRENCY
    durations_ok = all(abs(d - source_s) <= 1.0 for v in durations.values() for d in v)
    decodes_ok = all(not errors for errors in decode.values())
    print(
        f"made {segments} segments in {made_s:.1f} s; runs: "
        f"{json.dumps({k: [round(x, 2) for x in v] for k, v in times.items()})}"
    )
    for name, errors in decode.items():
        if errors:
            print(f"{name} does not decode cleanly: {errors[:500]}")
    ratio = med["showkeeper"] / med["ytdlp_n8"]
    floor_ratio = med["showkeeper_n8"] / floor
    line = {
        "bench": "hls",
        "segments": segments,
        "delay_ms": options.delay_ms,
        "source_s": round(source_s, 2),
        "showkeeper_s": round(med["showkeeper"], 3),
        "showkeeper": "showkeeper fetch URL -o OUT (defaults: 16 segments in flight)",
        "reference": "yt-dlp -N 8",
        "reference_s": round(med["ytdlp_n8"], 3),
        "ratio": round(ratio, 3),
        "goal": GOAL,
        "reference_n16": "yt-dlp -N 16",
        "reference_n16_s": round(med["ytdlp_n16"], 3),
        "ratio_vs_n16": round(med["showkeeper"] / med["ytdlp_n16"], 3),
        "same_concurrency": SAME_CONCURRENCY,
        "showkeeper_n8_s": round(med["showkeeper_n8"], 3),
        "showkeeper_n8": "SHOWKEEPER_DOWNLOAD_CONNECTIONS=4 showkeeper fetch URL -o OUT",
        "floor_s": round(floor, 3),
        "floor": "segments x delay / 8",
        "showkeeper_n8_vs_floor": round(floor_ratio, 3),
        "floor_goal": FLOOR_GOAL,
        "ytdlp_n8_vs_floor": round(med["ytdlp_n8"] / floor, 3),
        "showkeeper_n8_vs_ytdlp_n8": round(med["showkeeper_n8"] / med["ytdlp_n8"], 3),
        "in_process_s": round(med["in_process"], 3),
        "durations_ok": durations_ok,
        "decodes_ok": decodes_ok,
        "runs": options.runs,
        "met": ratio <= GOAL and floor_ratio <= FLOOR_GOAL,
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(line))
    if not (durations_ok and decodes_ok):
        sys.exit(1)


if __name__ == "__main__":
    main()
