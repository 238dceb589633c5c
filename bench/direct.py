"""Direct-download benchmark: `showkeeper fetch` against curl (and aria2c) on a 200 MB file.

A separate server process (tests/integration/downloads/servers.py, aiohttp) serves a 200 MB
random file from a temp dir on 127.0.0.1.

Headline, both sides a new process timed from spawn to exit: `showkeeper fetch URL -o OUT`
(the venv's console script, a fresh data dir per run, loopback allowed, every other setting
default: probe, 8 ranged connections, fsync and atomic rename) vs `curl -sS -o OUT URL` (one
connection, no fsync). Goal: <= 2x curl.

Extra keys:
- in-process: the engine alone (no process start), vs curl (the old headline, goal 1.25x)
  and vs curl followed by an fsync of its output (showkeeper's durability);
- capped: every connection limited to 10 MB/s by a second server; the engine in-process
  vs `aria2c -x8 -s8` (goal 1.1x), and `showkeeper fetch` against the same.

After one uncounted warm-up each, every side runs RUNS times in alternating order, each after
`sync` (so no run pays for the previous one's writeback); medians count. The sha256 of every
output is compared with the source's and printed as computed booleans; a mismatch exits
non-zero. aria2c is installed with apt-get when missing (as root).

Run: .venv/bin/python bench/direct.py [--size-mb 200] [--runs 7]
Quick: .venv/bin/python bench/direct.py --size-mb 20 --runs 1
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
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

from tests.integration.downloads.servers import media_bytes  # noqa: E402

from showkeeper.config import load_settings  # noqa: E402
from showkeeper.domain.candidates import Candidate  # noqa: E402
from showkeeper.downloads.engine import download  # noqa: E402
from showkeeper.logging import setup_logging  # noqa: E402
from showkeeper.net import HttpClient  # noqa: E402

CAP = 10_000_000  # bytes per second per connection
GOAL = 2.0
IN_PROCESS_GOAL = 1.25
CAPPED_GOAL = 1.1


def console_script(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        sys.exit(f"{name} not found beside {sys.executable} or on PATH")
    return found


def ensure_aria2c() -> str:
    found = shutil.which("aria2c")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, capture_output=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "aria2"], check=True, env=env, capture_output=True
        )
    found = shutil.which("aria2c")
    if not found:
        sys.exit("aria2c is missing and could not be installed (apt-get install aria2)")
    return found


def start_server(directory: Path, rate: float | None) -> tuple[subprocess.Popen[str], int]:
    args = [sys.executable, "-m", "tests.integration.downloads.servers", "--dir", str(directory)]
    if rate:
        args += ["--rate", str(rate)]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("PORT "):
        proc.kill()
        sys.exit(f"server did not start: {line!r}")
    return proc, int(line.split()[1])


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(8 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def timed(
    args: list[str], *, fsync: Path | None = None, env: dict[str, str] | None = None
) -> float:
    """Run a process to its end; with ``fsync``, also fsync its output (what showkeeper does)."""
    start = time.perf_counter()
    done = subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode != 0:
        sys.exit(f"{args[0]} exited {done.returncode}: {done.stderr.decode()[-3000:]}")
    if fsync is not None:
        fd = os.open(fsync, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    return time.perf_counter() - start


async def in_process(url: str, out: Path, settings) -> float:
    """The engine alone, with the connection limit `fetch` and the worker give it."""
    start = time.perf_counter()
    limit = max(8, 2 * settings.download_connections)
    async with HttpClient(allowed_networks=["127.0.0.0/8"], per_host_limit=limit) as client:
        await download([Candidate(url)], out, client=client, settings=settings)
    return time.perf_counter() - start


def clear(*paths: Path) -> None:
    """Remove earlier outputs and flush all pending writeback, so that no run pays for the
    previous run's dirty pages (whoever calls fsync first would)."""
    for path in paths:
        path.unlink(missing_ok=True)
    os.sync()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    setup_logging("WARNING")  # the in-process runs: no log line per download on the console
    aria2c = ensure_aria2c()
    curl = shutil.which("curl") or "/usr/bin/curl"
    showkeeper = console_script("showkeeper")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWKEEPER_")}
    with tempfile.TemporaryDirectory(prefix="bench-direct-") as tmp:
        work = Path(tmp)
        served = work / "served"
        served.mkdir()
        source = served / "big.mp4"
        with open(source, "wb") as fh:
            # real media first (showkeeper files only what ffprobe can read), then bulk
            fh.write(media_bytes(1024 * 1024))
            for _ in range(options.size_mb - 1):
                fh.write(os.urandom(1024 * 1024))
        expected = sha256(source)
        out_dir = work / "out"
        out_dir.mkdir()
        settings = load_settings(
            env_file=None,
            data_dir=work / "data",
            allowed_private_networks="127.0.0.0/8",
        )
        fresh = iter(range(1_000_000))
        servers = []
        try:
            plain, plain_port = start_server(served, None)
            capped, capped_port = start_server(served, CAP)
            servers = [plain, capped]
            url = f"http://127.0.0.1:{plain_port}/big.mp4"
            capped_url = f"http://127.0.0.1:{capped_port}/big.mp4"

            def fetch(from_url: str, out: Path) -> float:
                env = {**base_env, "SHOWKEEPER_DATA_DIR": str(work / f"data-{next(fresh)}")}
                env["SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS"] = "127.0.0.0/8"
                return timed([showkeeper, "fetch", from_url, "-o", str(out)], env=env)

            def curl_to(out: Path, *, fsync: bool = False) -> float:
                return timed([curl, "-sS", "-o", str(out), url], fsync=out if fsync else None)

            def aria2(out: Path) -> float:
                args = [aria2c, "-x8", "-s8", "-q", "--allow-overwrite=true"]
                args += ["-d", str(out.parent), "-o", out.name, capped_url]
                return timed(args)

            steps: dict[str, Callable[[Path], float]] = {
                "curl": curl_to,
                "sk_cli": lambda out: fetch(url, out),
                "sk_in_process": lambda out: asyncio.run(in_process(url, out, settings)),
                "curl_fsync": lambda out: curl_to(out, fsync=True),
            }
            capped_steps: dict[str, Callable[[Path], float]] = {
                "aria2c": aria2,
                "sk_cap_in_process": lambda out: asyncio.run(in_process(capped_url, out, settings)),
                "sk_cap_cli": lambda out: fetch(capped_url, out),
            }
            results: dict[str, list[float]] = {k: [] for k in (*steps, *capped_steps)}
            sha_ok: dict[str, list[bool]] = {k: [] for k in results}

            def rounds(chosen: dict[str, Callable[[Path], float]], n: int) -> None:
                for run in range(n + 1):  # run 0: warm-up (cold caches), not counted
                    order = list(chosen) if run % 2 == 0 else list(reversed(chosen))
                    for name in order:
                        out = out_dir / f"{name}.mp4"
                        clear(out)
                        elapsed = chosen[name](out)
                        if run:
                            results[name].append(elapsed)
                        sha_ok[name].append(out.exists() and sha256(out) == expected)
                        out.unlink(missing_ok=True)

            rounds(steps, options.runs)
            rounds(capped_steps, max(1, options.runs // 2))
        finally:
            for proc in servers:
                proc.kill()
                proc.wait()
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"runs: {json.dumps({k: [round(x, 3) for x in v] for k, v in results.items()})}")
    sha_equal = {k: all(v) for k, v in sha_ok.items()}
    ratio = med["sk_cli"] / med["curl"]
    capped_ratio = med["sk_cap_in_process"] / med["aria2c"]
    line = {
        "bench": "direct",
        "size_mb": options.size_mb,
        "showkeeper_s": round(med["sk_cli"], 3),
        "showkeeper": "showkeeper fetch URL -o OUT",
        "reference": "curl -o OUT URL",
        "reference_s": round(med["curl"], 3),
        "ratio": round(ratio, 3),
        "goal": GOAL,
        "in_process_s": round(med["sk_in_process"], 3),
        "in_process_ratio": round(med["sk_in_process"] / med["curl"], 3),
        "in_process_goal": IN_PROCESS_GOAL,
        "reference_with_fsync_s": round(med["curl_fsync"], 3),
        "in_process_ratio_vs_curl_with_fsync": round(med["sk_in_process"] / med["curl_fsync"], 3),
        "capped_mb_s_per_connection": CAP / 1e6,
        "showkeeper_capped_in_process_s": round(med["sk_cap_in_process"], 3),
        "showkeeper_capped_cli_s": round(med["sk_cap_cli"], 3),
        "capped_reference": "aria2c -x8 -s8",
        "capped_reference_s": round(med["aria2c"], 3),
        "capped_ratio": round(capped_ratio, 3),
        "capped_cli_ratio": round(med["sk_cap_cli"] / med["aria2c"], 3),
        "capped_goal": CAPPED_GOAL,
        "sha256_equal": all(sha_equal.values()),
        "sha256_equal_by_side": sha_equal,
        "runs": options.runs,
        "met": ratio <= GOAL,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(line))
    if not line["sha256_equal"]:
        sys.exit("an output differs from the source")


if __name__ == "__main__":
    main()
