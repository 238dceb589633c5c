"""Start-up benchmark: how long the `showkeeper` command takes before it does anything.

Timed as a user meets it, each as a new process from just before the spawn (the console
scripts in the venv, default settings, stdout to /dev/null):

- `showkeeper --version` and `showkeeper --help`, until the process exits;
- `showkeeper fetch URL -o FILE` (fresh data dir each run, loopback allowed), until its
  first HTTP request reaches a server on 127.0.0.1 that this script runs (a thread that
  notes the arrival time of each request with the same clock); the whole fetch of the
  small file is reported beside it;
- the reference: `yt-dlp --version` (its console script in the same venv); `yt-dlp URL`
  until its first request is reported beside the fetch figure.

One uncounted warm-up of each command, then RUNS rounds in alternating order; medians count.
Goals: --version and --help <= 0.25 s; fetch's first request <= 0.4 s.

Run: .venv/bin/python bench/startup.py [--runs 10]      quick: --runs 3
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

VERSION_GOAL_S = 0.25
HELP_GOAL_S = 0.25
FIRST_REQUEST_GOAL_S = 0.4


def small_mp4() -> bytes:
    """A real 1-second MP4 made by ffmpeg (the engine files only media), padded to ~64 KiB."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clip.mp4"
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
             "testsrc=size=160x120:rate=10", "-t", "1", "-c:v", "mpeg4",
             "-movflags", "+faststart", str(out)],
            check=True,
        )  # fmt: skip
        data = out.read_bytes()
    return data + os.urandom(max(0, 64 * 1024 - len(data)))


BODY = small_mp4()


def console_script(name: str) -> str:
    """The venv's console script (what a user of this install runs), else one on PATH."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        sys.exit(f"{name} not found beside {sys.executable} or on PATH")
    return found


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client hanging up: fine
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class FirstRequest:
    """A loopback HTTP server that remembers when the first request of a round arrived."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _arrived(self) -> None:
                now = time.perf_counter()
                with outer.lock:
                    if outer.first is None:
                        outer.first = now

            def _headers(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(BODY)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()

            def do_HEAD(self) -> None:
                self._arrived()
                self._headers()

            def do_GET(self) -> None:
                self._arrived()
                self._headers()
                self.wfile.write(BODY)

            def log_message(self, *args: object) -> None:
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def reset(self) -> None:
        with self.lock:
            self.first = None

    def __enter__(self) -> FirstRequest:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SHOWKEEPER_")}


def run_to_exit(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{argv} exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    return elapsed


def run_to_first_request(
    argv: list[str], env: dict[str, str], server: FirstRequest, out: Path | None
) -> tuple[float, float, bool]:
    """Seconds from spawn to the first request, to exit, and whether the output is right."""
    server.reset()
    if out is not None:
        out.unlink(missing_ok=True)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{argv} exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    if server.first is None:
        sys.exit(f"{argv} finished without sending a request")
    ok = out is None or (out.exists() and out.read_bytes() == BODY)
    return server.first - started, elapsed, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    options = parser.parse_args()
    showkeeper, ytdlp = console_script("showkeeper"), console_script("yt-dlp")
    env = clean_env()
    times: dict[str, list[float]] = {
        k: [] for k in ("version", "help", "fetch_first", "fetch_total", "ref", "ytdlp_first")
    }
    outputs_ok: list[bool] = []
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp, FirstRequest() as server:
        work = Path(tmp)
        url = f"http://127.0.0.1:{server.port}/episode.mp4"
        out = work / "episode.mp4"
        fresh = itertools.count()

        def fetch() -> None:
            data = work / f"data-{next(fresh)}"  # a fresh data dir each run
            fetch_env = {
                **env,
                "SHOWKEEPER_DATA_DIR": str(data),
                "SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
            }
            argv = [showkeeper, "fetch", url, "-o", str(out)]
            first, total, ok = run_to_first_request(argv, fetch_env, server, out)
            times["fetch_first"].append(first)
            times["fetch_total"].append(total)
            outputs_ok.append(ok)

        def ytdlp_first() -> None:
            argv = [ytdlp, "--simulate", "--no-cache-dir", "-q", "--no-warnings", url]
            times["ytdlp_first"].append(run_to_first_request(argv, env, server, None)[0])

        steps = {
            "version": lambda: times["version"].append(run_to_exit([showkeeper, "--version"], env)),
            "help": lambda: times["help"].append(run_to_exit([showkeeper, "--help"], env)),
            "ref": lambda: times["ref"].append(run_to_exit([ytdlp, "--version"], env)),
            "fetch": fetch,
            "ytdlp_first": ytdlp_first,
        }
        for step in steps.values():  # warm-up: page cache, .pyc files
            step()
        for key in times:
            times[key].clear()
        outputs_ok.clear()
        for runs in range(options.runs):
            order = list(steps) if runs % 2 == 0 else list(reversed(steps))
            for name in order:
                steps[name]()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"runs: {json.dumps({k: [round(x, 3) for x in v] for k, v in times.items()})}")
    fetch_ok = len(outputs_ok) == options.runs and all(outputs_ok)
    line = {
        "bench": "startup",
        "runs": options.runs,
        "showkeeper_s": round(med["version"], 3),
        "showkeeper": "showkeeper --version",
        "reference": "yt-dlp --version",
        "reference_s": round(med["ref"], 3),
        "ratio": round(med["version"] / med["ref"], 2),
        "goal_s": VERSION_GOAL_S,
        "help_s": round(med["help"], 3),
        "help_goal_s": HELP_GOAL_S,
        "fetch_first_request_s": round(med["fetch_first"], 3),
        "fetch_first_request_goal_s": FIRST_REQUEST_GOAL_S,
        "fetch_total_s": round(med["fetch_total"], 3),
        "fetch_outputs_ok": fetch_ok,
        "ytdlp_first_request_s": round(med["ytdlp_first"], 3),
        "met": med["version"] <= VERSION_GOAL_S
        and med["help"] <= HELP_GOAL_S
        and med["fetch_first"] <= FIRST_REQUEST_GOAL_S,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(line))
    if not fetch_ok:
        sys.exit("showkeeper fetch wrote a wrong file")


if __name__ == "__main__":
    main()
