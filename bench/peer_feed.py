"""Peer benchmark (issue 16): `showkeeper get URL` and `showkeeper serve` against podcast-archiver.

A feed of 40 episodes, 8 MB each, on 127.0.0.1: every file a real MP4 (one second made by
ffmpeg) followed by a `free` box of seeded random bytes up to exactly 8 MB, so every file is
distinct and valid. A server process (tests/integration/downloads/feed_server.py) waits
50 ms before every answer, writes every body at 4 MB/s per response, honours Range and
answers If-None-Match / If-Modified-Since with 304 (ETag and Last-Modified on everything).
It counts requests (method, path, status, conditional or not), connections and the most
connections open at once.

Each side runs as its users run it, as a new process timed from spawn to exit, twice (the
second run is the no-op re-check), both with stdout and stderr to files (non-interactive):
- podcast-archiver (PyPI, a dev dependency): `podcast-archiver --feed URL --dir DIR`, its
  own defaults (4 downloads at once), a fresh config dir (XDG_CONFIG_HOME) that keeps its
  episode database between the two runs;
- showkeeper: `showkeeper get URL --library DIR`, a fresh data dir (SHOWKEEPER_DATA_DIR),
  SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS=127.0.0.0/8 (the feed is on loopback), all else
  default;
- the server: `showkeeper serve --port P` with a fresh data dir, then through the API as a
  user's script would: POST /api/auth/setup (password, library_dir), POST /api/series with
  the feed URL, wait for its loading-status to be completed, POST /api/queue/add with the
  series key (the series page's "Download missing"); timed from spawn until the 40th file
  is in the library.

Peak RSS is the largest sum of RSS over the process tree (the process and its descendants,
/proc sampled every 20 ms); `*_hwm_mb` is the kernel's high-water mark of the main process
alone (VmHWM, read with each sample; wait4's ru_maxrss would also count the pages of this
script, which the child shares between vfork and exec). Every file must be on disk with the
sha256 of the bytes served (found by walking each output dir), and both runs of both tools
must exit 0; otherwise the script exits non-zero.

Goals: showkeeper's first run <= 0.9 x podcast-archiver's wall time, its re-check <= 1 x
theirs, peak RSS <= 70 MB (CLI) and <= 110 MB (server), at most 41 requests for the first
run (the feed and one GET per file) and one conditional request for the re-check.

Run: .venv/bin/python bench/peer_feed.py [--episodes 40] [--size-mb 8] [--rounds 1]
Quick: .venv/bin/python bench/peer_feed.py --episodes 6 --size-mb 2
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ comes first on sys.path, where bench/queue.py would shadow the
# standard library's queue module; the repository root is needed for tests.* instead.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from bench.support import free_port  # noqa: E402
from tests.integration.downloads.feed_server import MB, FeedProcess  # noqa: E402

SEED = 16
PASSWORD = "bench password 123"
GOAL = 0.9
RECHECK_GOAL = 1.0
CLI_RSS_GOAL_MB = 70
SERVER_RSS_GOAL_MB = 110
RECHECK_REQUESTS_GOAL = 1
PAGE = os.sysconf("SC_PAGE_SIZE")


# -- measuring a process -------------------------------------------------------------------


class TreeRss:
    """Samples the RSS of a process and its descendants every `interval` s (a thread).

    A child between fork (or vfork) and exec has its parent's command line and shows its
    parent's pages as its own RSS; it is left out, or a sample taken then would count the
    parent twice.
    """

    def __init__(self, root: int, interval: float = 0.02) -> None:
        self.root, self.interval, self.peak = root, interval, 0
        self.at_peak: dict[str, int] = {}
        self.hwm = 0
        self.parents: dict[int, int] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def sample(self) -> dict[str, int]:
        with contextlib.suppress(OSError, ValueError, StopIteration):
            status = Path(f"/proc/{self.root}/status").read_text().splitlines()
            line = next(line for line in status if line.startswith("VmHWM:"))
            self.hwm = max(self.hwm, int(line.split()[1]) * 1024)
        pids = {int(p) for p in os.listdir("/proc") if p.isdigit()}
        for gone in self.parents.keys() - pids:
            del self.parents[gone]
        for pid in pids - self.parents.keys():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = Path(f"/proc/{pid}/stat").read_text()
                self.parents[pid] = int(stat.rsplit(")", 1)[1].split()[1])
        tree, frontier = {self.root}, {self.root}
        while frontier:
            frontier = {p for p, parent in self.parents.items() if parent in frontier} - tree
            tree |= frontier
        sizes = {}
        for pid in tree:
            with contextlib.suppress(OSError, ValueError, IndexError):
                if pid != self.root and cmdline(pid) == cmdline(self.parents[pid]):
                    continue  # forked, not yet exec'd: the parent's pages, counted there
                rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
                sizes[f"{pid} {Path(f'/proc/{pid}/comm').read_text().strip()}"] = rss
        return sizes

    def run(self) -> None:
        while not self.stop.is_set():
            sizes = self.sample()
            if sum(sizes.values()) > self.peak:
                self.peak, self.at_peak = sum(sizes.values()), sizes
            self.stop.wait(self.interval)

    def finish(self) -> tuple[float, float]:
        """The peak RSS of the tree and the main process's VmHWM, in MB."""
        self.stop.set()
        self.thread.join()
        print(f"peak {self.peak / MB:.1f} MB: {self.at_peak}", file=sys.stderr)
        return round(self.peak / MB, 1), round(self.hwm / MB, 1)


def cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


@dataclass
class Run:
    wall_s: float
    peak_rss_mb: float
    hwm_mb: float
    exit_code: int
    stats: dict[str, Any]


def timed_run(argv: list[str], env: dict[str, str], log: Path, feed: FeedProcess) -> Run:
    """Spawn `argv`, wait for its exit; wall time from spawn to exit, peak tree RSS."""
    os.sync()  # no run pays for the previous one's writeback
    feed.ask("reset")
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent)
        sampler = TreeRss(proc.pid)
        proc.wait()
        wall = time.perf_counter() - start
    peak, hwm = sampler.finish()
    return Run(wall, peak, hwm, proc.returncode, feed.stats())


def server_run(
    argv: list[str], env: dict[str, str], log: Path, feed: FeedProcess, library: Path, count: int
) -> Run:
    """`showkeeper serve`, then the API calls; wall time from spawn to `count` files on disk."""
    os.sync()
    feed.ask("reset")
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent)
        sampler = TreeRss(proc.pid)
        try:
            base = f"http://127.0.0.1:{argv[-1]}"
            wait_for(lambda: call(base + "/health", timeout=1) is not None, proc, 60, "/health")
            body = {"password": PASSWORD, "library_dir": str(library)}
            key = call(base + "/api/auth/setup", body)["api_key"]
            series = call(base + "/api/series", {"url": feed.url}, key=key)["key"]

            def loaded() -> bool:
                state = call(f"{base}/api/series/{series}/loading-status", key=key)
                if state["status"] == "failed":
                    sys.exit(f"the server could not add the feed: {state['error']}")
                return bool(state["status"] == "completed")

            wait_for(loaded, proc, 120, "the series to load")
            call(base + "/api/queue/add", {"series_key": series}, key=key)
            wait_for(lambda: len(media_files(library)) >= count, proc, 1800, "the files")
            wall = time.perf_counter() - start
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait()
            peak, hwm = sampler.finish()
    return Run(wall, peak, hwm, proc.returncode, feed.stats())


def wait_for(
    done: Callable[[], bool], proc: subprocess.Popen[bytes], limit: float, what: str
) -> None:
    deadline = time.perf_counter() + limit
    while not done():
        if proc.poll() is not None:
            sys.exit(f"the server exited ({proc.returncode}) while waiting for {what}")
        if time.perf_counter() > deadline:
            sys.exit(f"timed out after {limit} s waiting for {what}")
        time.sleep(0.05)


_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(url: str, body: Any = None, *, key: str = "", timeout: float = 30) -> Any:
    """JSON in and out; None when the server is not answering yet."""
    headers = {"Content-Type": "application/json", **({"X-Api-Key": key} if key else {})}
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with _direct.open(request, timeout=timeout) as resp:
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        sys.exit(f"{url} answered {exc.code}: {exc.read().decode(errors='replace')}")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


# -- data and checks -------------------------------------------------------------------------


def make_files(directory: Path, episodes: int, size: int) -> dict[str, str]:
    """`episodes` MP4 files of exactly `size` bytes; returns sha256 -> file name."""
    from tests.integration.downloads.servers import make_media

    with tempfile.TemporaryDirectory() as tmp:
        head = make_media(Path(tmp) / "clip.mp4", seconds=1).read_bytes()
    payload = size - len(head) - 8
    if payload < 0:
        sys.exit(f"--size-mb is smaller than the clip ({len(head)} bytes)")
    digests = {}
    for n in range(1, episodes + 1):
        rng = random.Random(SEED * 1000 + n)
        data = head + struct.pack(">I", payload + 8) + b"free" + rng.randbytes(payload)
        (directory / f"episode-{n:03d}.mp4").write_bytes(data)
        digests[hashlib.sha256(data).hexdigest()] = f"episode-{n:03d}.mp4"
    return digests


def media_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.mp4") if p.is_file()] if root.exists() else []


def intact(root: Path, digests: dict[str, str]) -> bool:
    """Every served file is under `root` with the served bytes, and nothing else is."""
    found = []
    for path in media_files(root):
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            while chunk := fh.read(4 * 1024 * 1024):
                digest.update(chunk)
        found.append(digest.hexdigest())
    return sorted(found) == sorted(digests)


def console_script(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        sys.exit(f"{name} not found beside {sys.executable} or on PATH (./dev.sh lint installs it)")
    return found


def clean_env(**extra: str) -> dict[str, str]:
    skip = ("SHOWKEEPER_", "PODCAST_ARCHIVER_")
    return {**{k: v for k, v in os.environ.items() if not k.startswith(skip)}, **extra}


# -- the bench -------------------------------------------------------------------------------


def one_round(work: Path, feed: FeedProcess, digests: dict[str, str]) -> dict[str, Run]:
    runs: dict[str, Run] = {}
    archiver, showkeeper = console_script("podcast-archiver"), console_script("showkeeper")
    for sub in ("pa", "pa/out", "sk", "server"):  # podcast-archiver wants its --dir to exist
        (work / sub).mkdir()
    pa_env = clean_env(XDG_CONFIG_HOME=str(work / "pa" / "config"))
    for name in ("pa_first", "pa_recheck"):
        argv = [archiver, "--feed", feed.url, "--dir", str(work / "pa" / "out")]
        runs[name] = timed_run(argv, pa_env, work / "pa" / f"{name}.log", feed)
    sk_env = clean_env(
        SHOWKEEPER_DATA_DIR=str(work / "sk" / "data"),
        SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS="127.0.0.0/8",
    )
    for name in ("sk_first", "sk_recheck"):
        argv = [showkeeper, "get", feed.url, "--library", str(work / "sk" / "library")]
        runs[name] = timed_run(argv, sk_env, work / "sk" / f"{name}.log", feed)
    server_env = clean_env(
        SHOWKEEPER_DATA_DIR=str(work / "server" / "data"),
        SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS="127.0.0.0/8",
    )
    argv = [showkeeper, "serve", "--port", str(free_port())]
    library = work / "server" / "library"
    runs["server"] = server_run(
        argv, server_env, work / "server" / "serve.log", feed, library, len(digests)
    )
    checks = {
        "pa": intact(work / "pa" / "out", digests),
        "sk": intact(work / "sk" / "library", digests),
        "server": intact(library, digests),
    }
    bad = [side for side, ok in checks.items() if not ok]
    if bad:
        for side in bad:
            for log in sorted((work / side).glob("*.log")):
                print(f"--- {log}\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
        sys.exit(f"files missing or different from the served bytes: {', '.join(bad)}")
    for name in ("pa_first", "pa_recheck", "sk_first", "sk_recheck"):
        if runs[name].exit_code != 0:
            sys.exit(f"{name} exited {runs[name].exit_code}: see its log above")
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=40)
    parser.add_argument("--size-mb", type=float, default=8)
    parser.add_argument("--rate-mb", type=float, default=4, help="MB/s per response")
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--rounds", type=int, default=1, help="medians over this many rounds")
    args = parser.parse_args()
    latency, rate = args.latency_ms / 1000, args.rate_mb * MB
    started = time.perf_counter()
    rounds: list[dict[str, Run]] = []
    with tempfile.TemporaryDirectory(prefix="bench-peer-feed-") as tmp:
        served = Path(tmp) / "served"
        served.mkdir()
        digests = make_files(served, args.episodes, int(args.size_mb * MB))
        feed = FeedProcess(served, latency, rate)
        try:
            for n in range(args.rounds):
                work = Path(tmp) / f"round-{n}"
                work.mkdir()
                rounds.append(one_round(work, feed, digests))
                shutil.rmtree(work)  # 3 x the feed's size on disk per round
        finally:
            feed.close()
    print(json.dumps(result(rounds, args, time.perf_counter() - started)))


def result(rounds: list[dict[str, Run]], args: argparse.Namespace, took: float) -> dict[str, Any]:
    def med(name: str, attr: str) -> float:
        return round(statistics.median(getattr(r[name], attr) for r in rounds), 3)

    def most(name: str, key: str) -> int:
        return max(int(r[name].stats[key]) for r in rounds)

    last = rounds[-1]
    for name, run in last.items():  # the request log of each run, for a reader (not the line)
        print(f"{name}: {json.dumps(run.stats.pop('log'))}", file=sys.stderr)
        for other in rounds[:-1]:
            other[name].stats.pop("log", None)
    first_requests_goal = args.episodes + 1
    line: dict[str, Any] = {
        "bench": "peer_feed",
        "episodes": args.episodes,
        "size_mb": args.size_mb,
        "rate_mb_s_per_connection": args.rate_mb,
        "latency_ms": args.latency_ms,
        "showkeeper": "showkeeper get URL --library DIR",
        "showkeeper_s": med("sk_first", "wall_s"),
        "reference": "podcast-archiver --feed URL --dir DIR",
        "reference_s": med("pa_first", "wall_s"),
        "ratio": round(med("sk_first", "wall_s") / med("pa_first", "wall_s"), 3),
        "goal": GOAL,
        "recheck_s": med("sk_recheck", "wall_s"),
        "reference_recheck_s": med("pa_recheck", "wall_s"),
        "recheck_ratio": round(med("sk_recheck", "wall_s") / med("pa_recheck", "wall_s"), 3),
        "recheck_goal": RECHECK_GOAL,
        "requests": most("sk_first", "requests"),
        "requests_by_method": last["sk_first"].stats["by_method"],
        "requests_goal": first_requests_goal,
        "recheck_requests": most("sk_recheck", "requests"),
        "recheck_conditional": most("sk_recheck", "conditional"),
        "recheck_not_modified": most("sk_recheck", "not_modified"),
        "recheck_requests_goal": RECHECK_REQUESTS_GOAL,
        "recheck_media_gets": most("sk_recheck", "media_gets"),
        "max_connections": most("sk_first", "max_connections"),
        "peak_rss_mb": max(med("sk_first", "peak_rss_mb"), med("sk_recheck", "peak_rss_mb")),
        "hwm_mb": max(med("sk_first", "hwm_mb"), med("sk_recheck", "hwm_mb")),
        "peak_rss_goal_mb": CLI_RSS_GOAL_MB,
        "reference_requests": most("pa_first", "requests"),
        "reference_requests_by_method": last["pa_first"].stats["by_method"],
        "reference_recheck_requests": most("pa_recheck", "requests"),
        "reference_recheck_not_modified": most("pa_recheck", "not_modified"),
        "reference_recheck_media_gets": most("pa_recheck", "media_gets"),
        "reference_max_connections": most("pa_first", "max_connections"),
        "reference_peak_rss_mb": max(
            med("pa_first", "peak_rss_mb"), med("pa_recheck", "peak_rss_mb")
        ),
        "reference_hwm_mb": max(med("pa_first", "hwm_mb"), med("pa_recheck", "hwm_mb")),
        "server": "showkeeper serve + POST /api/auth/setup, /api/series, /api/queue/add",
        "server_s": med("server", "wall_s"),
        "server_ratio": round(med("server", "wall_s") / med("pa_first", "wall_s"), 3),
        "server_requests": most("server", "requests"),
        "server_requests_by_method": last["server"].stats["by_method"],
        "server_max_connections": most("server", "max_connections"),
        "server_peak_rss_mb": med("server", "peak_rss_mb"),
        "server_hwm_mb": med("server", "hwm_mb"),
        "server_peak_rss_goal_mb": SERVER_RSS_GOAL_MB,
        "files_intact": True,  # one_round exits non-zero otherwise
        "rounds": args.rounds,
        "bench_s": round(took, 1),
    }
    line["met"] = (
        line["ratio"] <= GOAL
        and line["recheck_ratio"] <= RECHECK_GOAL
        and line["peak_rss_mb"] <= CLI_RSS_GOAL_MB
        and line["server_peak_rss_mb"] <= SERVER_RSS_GOAL_MB
        and line["requests"] <= first_requests_goal
        and line["recheck_requests"] <= RECHECK_REQUESTS_GOAL
        and line["recheck_media_gets"] == 0
    )
    line["load_average_1m"] = round(os.getloadavg()[0], 2)
    return line


if __name__ == "__main__":
    main()
