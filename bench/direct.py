"""Direct-download benchmark: showkeeper's engine against curl and aria2c on a 200 MB file.

A separate server process (tests/integration/downloads/servers.py, aiohttp) serves a 200 MB
random file from a temp dir on 127.0.0.1:

(a) no limit: showkeeper (the engine in-process: probe, ranged connection(s), fsync and
    atomic rename included) vs `curl -o` (no fsync). Goal: <= 1.25x curl. Also reported:
    curl followed by an fsync of its output, the same durability as showkeeper's.
(b) every connection capped at 10 MB/s: showkeeper vs `aria2c -x8 -s8`. Goal: <= 1.1x.

After one uncounted warm-up each, both sides run several times, alternating, each after
`sync` (so no run pays for the previous one's writeback); the median counts. Every output's sha256 must equal the source's. aria2c is installed with apt-get when missing (as root).

Run: .venv/bin/python bench/direct.py [--size-mb 200] [--runs 7]
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ comes first on sys.path, where bench/queue.py would shadow the
# standard library's queue module; the repository root is needed for tests.* instead.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from tests.integration.downloads.servers import media_bytes  # noqa: E402

from showkeeper.config import load_settings  # noqa: E402
from showkeeper.domain.candidates import Candidate  # noqa: E402
from showkeeper.downloads.engine import download  # noqa: E402
from showkeeper.net import HttpClient  # noqa: E402

CAP = 10_000_000  # bytes per second per connection
GOAL = 1.25
CAPPED_GOAL = 1.1


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
    assert proc.stdout is not None
    line = proc.stdout.readline()
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


def timed(args: list[str], *, fsync: Path | None = None) -> float:
    """Run a reference tool; with ``fsync``, also fsync its output (what showkeeper does)."""
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    if fsync is not None:
        fd = os.open(fsync, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    return time.perf_counter() - start


async def showkeeper(url: str, out: Path, settings) -> float:
    start = time.perf_counter()
    async with HttpClient(allowed_networks=["127.0.0.0/8"], per_host_limit=32) as client:
        await download([Candidate(url)], out, client=client, settings=settings)
    return time.perf_counter() - start


def clear(*paths: Path) -> None:
    """Remove earlier outputs and flush all pending writeback, so that no run pays for the
    previous run's dirty pages (whoever calls fsync first would)."""
    for path in paths:
        path.unlink(missing_ok=True)
    os.sync()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    aria2c = ensure_aria2c()
    curl = shutil.which("curl") or "/usr/bin/curl"
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
        results: dict[str, list[float]] = {
            "sk": [],
            "curl": [],
            "curl_fsync": [],
            "sk_cap": [],
            "aria2c": [],
        }
        servers = []
        try:
            plain, plain_port = start_server(served, None)
            capped, capped_port = start_server(served, CAP)
            servers = [plain, capped]
            url = f"http://127.0.0.1:{plain_port}/big.mp4"
            capped_url = f"http://127.0.0.1:{capped_port}/big.mp4"
            ours, theirs = out_dir / "sk.mp4", out_dir / "ref.mp4"
            # One warm-up each, not counted: the engine lives in a long-running process, and
            # the first run of any tool pays for cold caches.
            clear(ours, theirs)
            timed([curl, "-sS", "-o", str(theirs), url])
            asyncio.run(showkeeper(url, ours, settings))
            curl_args = [curl, "-sS", "-o", str(theirs), url]
            steps = {
                "curl": lambda: timed(curl_args),
                "sk": lambda: asyncio.run(showkeeper(url, ours, settings)),
                "curl_fsync": lambda: timed(curl_args, fsync=theirs),
            }
            for run in range(options.runs):
                order = list(steps) if run % 2 == 0 else list(reversed(steps))  # no fixed first
                for name in order:
                    clear(ours, theirs)
                    results[name].append(steps[name]())
                    output = ours if name == "sk" else theirs
                    assert sha256(output) == expected, f"{name} output differs"
            for _ in range(max(1, options.runs // 2)):
                clear(ours, theirs)
                results["aria2c"].append(
                    timed(
                        [
                            aria2c,
                            "-x8",
                            "-s8",
                            "-q",
                            "--allow-overwrite=true",
                            "-d",
                            str(out_dir),
                            "-o",
                            theirs.name,
                            capped_url,
                        ]
                    )
                )
                assert sha256(theirs) == expected, "aria2c output differs"
                clear(ours, theirs)
                results["sk_cap"].append(asyncio.run(showkeeper(capped_url, ours, settings)))
                assert sha256(ours) == expected, "showkeeper output differs (capped)"
        finally:
            for proc in servers:
                proc.kill()
                proc.wait()
    median = {k: statistics.median(v) for k, v in results.items()}
    print(f"runs: {json.dumps({k: [round(x, 3) for x in v] for k, v in results.items()})}")
    line = {
        "bench": "direct",
        "size_mb": options.size_mb,
        "showkeeper_s": round(median["sk"], 3),
        "reference": "curl",
        "reference_s": round(median["curl"], 3),
        "ratio": round(median["sk"] / median["curl"], 3),
        "goal": GOAL,
        "reference_with_fsync_s": round(median["curl_fsync"], 3),
        "ratio_vs_curl_with_fsync": round(median["sk"] / median["curl_fsync"], 3),
        "capped_mb_s_per_connection": CAP / 1e6,
        "showkeeper_capped_s": round(median["sk_cap"], 3),
        "capped_reference": "aria2c -x8 -s8",
        "capped_reference_s": round(median["aria2c"], 3),
        "capped_ratio": round(median["sk_cap"] / median["aria2c"], 3),
        "capped_goal": CAPPED_GOAL,
        "sha256_equal": True,
    }
    print(json.dumps(line))


if __name__ == "__main__":
    main()
