"""Library scan benchmark: showkeeper's scanner against `find ROOT -type f` on the same tree.

Generates a library of N series x 2 seasons x 25 episodes (empty files, names in mixed forms,
season folders in mixed forms, tvshow.nfo or legacy key files; 1 % of the folders unidentified)
under a temp dir, then, with a warm cache, times:

- `find ROOT -type f` (the reference; best of 5);
- the first import into an empty database;
- a rescan with no changes (DB in sync), in-process (in_process_*);
- a forced full rescan (every folder read again, DB in sync);
- a targeted rescan of one series (median of 5 series);
- `showkeeper scan` as a new process on the same, unchanged library (median of 3): what a
  user runs, start-up included, against `find` as a process: the headline ratio.

The scans run in a child process (which starts its own folder-reading worker process for the
big reads); peak RSS is the child's own (getrusage) plus its worker's (VmHWM in /proc).

    python bench/scan.py               # 2,000 series = 100,000 episode files
    python bench/scan.py --series 200  # quick check
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# bench/ holds scripts named like stdlib modules (queue.py): never import from there
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

SEASONS = 2
EPISODES = 25
SEASON_FOLDERS = ("Season {s:02d}", "Season {s}", "S{s:02d}", "Staffel {s}")


def episode_name(title: str, form: int, s: int, e: int) -> str:
    dotted = title.replace(" ", ".")
    return (
        f"{title} - S{s:02d}E{e:02d} - Episode {e}.mkv",
        f"{dotted}.S{s:02d}E{e:02d}.1080p.WEB-DL.x264-GRP.mkv",
        f"{title} {s}x{e:02d}.mp4",
        f"{e:02d} - The Episode Title.mkv",
        f"{title} Season {s} Episode {e}.avi",
        f"[Group] {title} - S{s:02d}E{e:02d} [720p].mkv",
    )[form % 6]


def generate(root: Path, n_series: int) -> int:
    files = 0
    for i in range(n_series):
        title = f"Series {i:04d}"
        folder = root / f"{title} ({1990 + i % 30})"
        folder.mkdir()
        if i % 100 == 99:
            pass  # unidentified: reported as unmapped
        elif i % 2 == 0:
            (folder / "tvshow.nfo").write_text(
                f'<tvshow><title>{title}</title><uniqueid type="tvdb" default="true">'
                f"{100000 + i}</uniqueid></tvshow>"
            )
        else:
            (folder / "key").write_text(f"series-{i:04d}\n")
        for s in range(1, SEASONS + 1):
            season = folder / SEASON_FOLDERS[i % 4].format(s=s)
            season.mkdir()
            for e in range(1, EPISODES + 1):
                (season / episode_name(title, i + e, s, e)).touch()
                files += 1
    return files


def time_find(root: Path, runs: int = 5) -> float:
    subprocess.run(["find", str(root), "-type", "f"], stdout=subprocess.DEVNULL, check=True)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(["find", str(root), "-type", "f"], stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t0)
    return min(times)


def time_cli_scan(env: dict[str, str]) -> float:
    """`showkeeper scan` from spawn to exit (the venv's console script)."""
    beside = Path(sys.executable).with_name("showkeeper")
    exe = str(beside) if beside.exists() else shutil.which("showkeeper") or "showkeeper"
    t0 = time.perf_counter()
    done = subprocess.run([exe, "scan"], env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"showkeeper scan exited {done.returncode}: {done.stderr[-3000:]}")
    return elapsed


class WorkerRss:
    """Samples the high-water RSS (VmHWM) of this process's children from /proc.

    getrusage(RUSAGE_CHILDREN) would do, but a child started by fork + exec is charged the
    parent's RSS of the moment before its exec, which is not what the worker ever used.
    """

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        children = Path(f"/proc/self/task/{os.getpid()}/children")
        while not self._stop.wait(0.02):
            try:
                pids = children.read_text().split()
            except OSError:
                return
            for pid in pids:
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))

    def __enter__(self) -> WorkerRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


async def child(library: Path, data: Path, n_series: int) -> dict[str, float | int]:
    from sqlalchemy import func, select

    from showkeeper.config import load_settings
    from showkeeper.context import open_context
    from showkeeper.db.models import Episode, Series
    from showkeeper.library.service import run_scan

    settings = load_settings(env_file=None, data_dir=data, library_dir=library)
    async with open_context(settings) as ctx:
        with WorkerRss() as worker:
            t0 = time.perf_counter()
            first = await run_scan(ctx)
            first_s = time.perf_counter() - t0
        rescans = []
        rescan_folders_read = 0  # an unchanged library: a rescan must read no folder
        for _ in range(5):
            t0 = time.perf_counter()
            again = await run_scan(ctx)
            rescans.append(time.perf_counter() - t0)
            rescan_folders_read += again.stats.folders_read
        t0 = time.perf_counter()
        await run_scan(ctx, force=True)
        full_s = time.perf_counter() - t0
        async with ctx.db.session() as s:
            keys = list((await s.execute(select(Series.key).order_by(Series.key))).scalars())
            on_disk = (
                await s.execute(select(func.count()).where(Episode.is_downloaded.is_(True)))
            ).scalar_one()
        targeted = []
        for key in keys[:: max(1, len(keys) // 5)][:5]:
            t0 = time.perf_counter()
            await run_scan(ctx, series_key=key)
            targeted.append(time.perf_counter() - t0)
    return {
        # the scan process, and its folder-reading worker process (waited for by now)
        "self_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_rss_mb": worker.peak_kb / 1024,
        "first_import_s": first_s,
        "rescan_s": statistics.median(rescans),
        "full_rescan_s": full_s,
        "targeted_s": statistics.median(targeted),
        "series_created": first.stats.series_created,
        "episodes_on_disk": on_disk,
        "rescan_folders_read": rescan_folders_read,
        "unmapped": first.stats.unmapped,
        "unparsed": first.stats.unparsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=2000, help="series folders (50 files each)")
    parser.add_argument(
        "--child", nargs=3, metavar=("LIBRARY", "DATA", "N"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        library, data, n = args.child
        print(json.dumps(asyncio.run(child(Path(library), Path(data), int(n)))))
        return

    tmp = Path(tempfile.mkdtemp(prefix="showkeeper-bench-scan-"))
    try:
        library, data = tmp / "library", tmp / "data"
        library.mkdir()
        data.mkdir()
        t0 = time.perf_counter()
        files = generate(library, args.series)
        print(f"generated {files} files in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        time.sleep(2.1)  # mtimes younger than 2 s are never trusted (racy window)
        find_s = time_find(library)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWKEEPER_")}
        proc = subprocess.run(
            [sys.executable, "-P", __file__, "--child", str(library), str(data), str(args.series)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if proc.returncode != 0:
            sys.exit(f"scan child failed:\n{proc.stderr[-3000:]}")
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        # RUSAGE_CHILDREN: the largest process below us; the scan's two processes, summed, are
        # the honest figure (both peak during the first import; the worker's from /proc)
        largest_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        cli_env = {**env, "SHOWKEEPER_DATA_DIR": str(data), "SHOWKEEPER_LIBRARY_DIR": str(library)}
        cli_s = statistics.median(time_cli_scan(cli_env) for _ in range(3))
        peak_mb = out["self_rss_mb"] + out["worker_rss_mb"]
        expected = files - (args.series // 100) * SEASONS * EPISODES
        counts_ok = out["episodes_on_disk"] == expected and out["rescan_folders_read"] == 0
        result = {
            "bench": "scan",
            "files": files,
            "series": args.series,
            "reference": "find ROOT -type f",
            "reference_s": round(find_s, 4),
            "showkeeper": "showkeeper scan (a new process, unchanged library)",
            "showkeeper_s": round(cli_s, 3),
            "ratio": round(cli_s / find_s, 1),
            "goal": 3,
            "in_process_s": round(out["rescan_s"], 4),
            "in_process_ratio": round(out["rescan_s"] / find_s, 2),
            "first_import_s": round(out["first_import_s"], 3),
            "first_import_ratio": round(out["first_import_s"] / find_s, 1),
            "first_import_goal": 40,
            "full_rescan_s": round(out["full_rescan_s"], 3),
            "targeted_s": round(out["targeted_s"], 4),
            "targeted_ratio": round(out["targeted_s"] / out["full_rescan_s"], 4),
            "targeted_goal": 0.01,
            "peak_rss_mb": round(peak_mb, 1),
            "peak_rss_goal_mb": 150,
            "scan_process_rss_mb": round(out["self_rss_mb"], 1),
            "worker_process_rss_mb": round(out["worker_rss_mb"], 1),
            "largest_child_rss_mb": round(largest_mb, 1),
            "episodes_on_disk": out["episodes_on_disk"],
            "episodes_expected": expected,
            "rescan_folders_read": out["rescan_folders_read"],
            "counts_ok": counts_ok,
            "unmapped": out["unmapped"],
            "unparsed": out["unparsed"],
            "load_average_1m": round(os.getloadavg()[0], 2),
        }
        print(json.dumps(result))
        if not counts_ok:
            sys.exit("the scan found the wrong episodes, or an unchanged rescan read folders")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
