"""Feed benchmark: 1,000 feeds on 50 loopback hosts, every answer after 100 ms.

A separate server process (aiohttp, this script with --serve) listens on 127.0.0.2 ...
127.0.0.51 (Linux routes all of 127.0.0.0/8 to lo) and serves /feed/<n>.xml, 20 items each,
feed n from host 127.0.0.(2 + n % 50), with a strong ETag and a Last-Modified date. It
answers 304 to a matching If-None-Match, or without one to an If-Modified-Since not older
than the feed, and counts the statuses it sent (GET /stats) so each pass is checked.

Both sides are timed the way their users run them, every showkeeper setting at its default
(SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS=127.0.0.0/8 only lets the SSRF guard reach loopback):

- first pass: `showkeeper source import-opml feeds.opml` (a new process, fresh data dir) adds
  the 1,000 feeds and loads each one (one GET per feed, 20,000 episodes stored) against
  sequential `feedparser.parse(url)`, the loop a podcast script runs. Goal <= 0.1 x.
- second pass: `showkeeper source refresh` (a new process) sends conditional requests and
  gets 1,000 x 304 against sequential `feedparser.parse(url, etag=..., modified=...)` with
  the validators of its own first pass, as podcast tools do, also 304 every time.
  Goal <= 0.2 x.

The sequential reference takes ~100 s per pass over 1,000 URLs, so it runs over a sample
(default 200, spread over all hosts) and is scaled linearly; "reference_sampled" says how
many. Extra keys: `refresh_all` in-process (no process start) on 1,000 freshly inserted
series rows, first and second pass, at the same defaults.

Run: .venv/bin/python bench/refresh.py [--feeds 1000] [--items 20] [--sample 200]
Quick: .venv/bin/python bench/refresh.py --feeds 100 --sample 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from xml.sax.saxutils import quoteattr

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ comes first on sys.path, where bench/queue.py would shadow the
# standard library's queue module.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

DELAY = 0.1
HOSTS = 50
GOAL_FIRST = 0.1
GOAL_SECOND = 0.2
LAST_MODIFIED = datetime(2024, 6, 1, tzinfo=UTC)


def host_of(n: int) -> str:
    return f"127.0.0.{2 + n % HOSTS}"


def feed_body(n: int, items: int) -> bytes:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    entries = "".join(
        f'<item><title>Show {n} episode {i}</title><guid isPermaLink="false">show-{n}-ep-{i}</guid>'
        f"<pubDate>{format_datetime(start + timedelta(days=i))}</pubDate>"
        f"<description>Episode {i} of show {n}: a few words about it.</description>"
        f'<enclosure url="http://media.example/{n}/{i}.mp3" length="{1000 + i}" type="audio/mpeg"/>'
        f"<itunes:duration>00:{20 + i % 30}:00</itunes:duration><itunes:episode>{i}</itunes:episode></item>"
        for i in range(items, 0, -1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>'
        f"<title>Show {n}</title><link>http://media.example/{n}</link>"
        f"<description>Show number {n}</description><language>en</language>{entries}"
        "</channel></rss>"
    ).encode()


def serve(feeds: int, items: int) -> None:
    """The server process: prints its base URLs as JSON, serves until stdin closes."""
    from aiohttp import web

    bodies = {n: feed_body(n, items) for n in range(feeds)}
    last_modified = format_datetime(LAST_MODIFIED, usegmt=True)
    stats = {"200": 0, "304": 0, "other": 0}

    def not_modified(request: web.Request, etag: str) -> bool:
        if "If-None-Match" in request.headers:
            return request.headers["If-None-Match"] == etag
        since = request.headers.get("If-Modified-Since")
        if since is None:
            return False
        try:
            return parsedate_to_datetime(since) >= LAST_MODIFIED
        except (TypeError, ValueError):
            return False

    async def handle(request: web.Request) -> web.Response:
        await asyncio.sleep(DELAY)
        n = int(request.match_info["n"])
        if n not in bodies or host_of(n) != request.host.split(":")[0]:
            stats["other"] += 1
            return web.Response(status=404)
        etag = f'"feed-{n}-v1"'
        headers = {"ETag": etag, "Last-Modified": last_modified}
        if not_modified(request, etag):
            stats["304"] += 1
            return web.Response(status=304, headers=headers)
        stats["200"] += 1
        headers["Content-Type"] = "application/rss+xml"
        return web.Response(body=bodies[n], headers=headers)

    async def get_stats(request: web.Request) -> web.Response:
        return web.json_response(stats)

    async def reset(request: web.Request) -> web.Response:
        for key in stats:
            stats[key] = 0
        return web.json_response(stats)

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{n:\\d+}.xml", handle)
        app.router.add_get("/stats", get_stats)
        app.router.add_post("/reset", reset)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        bases = []
        for h in range(HOSTS):
            site = web.TCPSite(runner, f"127.0.0.{2 + h}", 0, backlog=1024)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            bases.append(f"http://127.0.0.{2 + h}:{port}")
        print(json.dumps(bases), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()

    asyncio.run(main())


class Server:
    """The server process and its statistics."""

    def __init__(self, feeds: int, items: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", "--feeds", str(feeds), "--items", str(items)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("["):
            self.close()
            sys.exit(f"feed server did not start: {line!r}")
        self.bases: list[str] = json.loads(line)

    def url(self, n: int) -> str:
        return f"{self.bases[n % HOSTS]}/feed/{n}.xml"

    def stats(self, *, reset: bool = False) -> dict[str, int]:
        """The statuses sent since the last reset (then reset them, if asked)."""
        with urllib.request.urlopen(self.bases[0] + "/stats") as resp:
            got: dict[str, int] = json.loads(resp.read())
        if reset:
            post = urllib.request.Request(self.bases[0] + "/reset", method="POST")
            with urllib.request.urlopen(post) as resp:
                resp.read()
        return got

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# -- the reference -----------------------------------------------------------------------------


def reference(urls: list[str], items: int) -> tuple[float, float, bool]:
    """Sequential feedparser: plain, then conditional with each feed's validators."""
    import feedparser

    validators: dict[str, tuple[str | None, str | None]] = {}
    ok = True
    started = time.perf_counter()
    for url in urls:
        parsed = feedparser.parse(url)
        ok &= parsed.get("status") == 200 and len(parsed.entries) == items
        validators[url] = (parsed.get("etag"), parsed.get("modified"))
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    for url in urls:
        etag, modified = validators[url]
        parsed = feedparser.parse(url, etag=etag, modified=modified)
        ok &= parsed.get("status") == 304
    second_s = time.perf_counter() - started
    return first_s, second_s, ok


# -- showkeeper as a user runs it -------------------------------------------------------------


def opml(urls: list[str]) -> bytes:
    outlines = "".join(
        f"<outline type={quoteattr('rss')} text={quoteattr(f'Show {n}')} xmlUrl={quoteattr(u)}/>"
        for n, u in enumerate(urls)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><opml version="2.0"><head><title>Bench'
        f"</title></head><body>{outlines}</body></opml>"
    ).encode()


def run_cli(argv: list[str], env: dict[str, str], cwd: Path, summary: str) -> tuple[float, str]:
    """Seconds from spawn to exit, and the output line that starts with ``summary``."""
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{argv[1:]} exited {done.returncode}: {done.stderr[-3000:]}")
    lines = [line for line in done.stdout.splitlines() if line.startswith(summary)]
    return elapsed, lines[0] if lines else ""


def stored(data_dir: Path) -> dict[str, int]:
    import sqlite3

    con = sqlite3.connect(data_dir / "showkeeper.db")
    try:
        one = lambda sql: int(con.execute(sql).fetchone()[0])  # noqa: E731
        return {
            "series_completed": one("SELECT count(*) FROM series WHERE loading_status='completed'"),
            "episodes": one("SELECT count(*) FROM episodes"),
        }
    finally:
        con.close()


# -- in-process extras --------------------------------------------------------------------------


async def in_process(urls: list[str], items: int, data_dir: Path) -> dict[str, float | bool]:
    from sqlalchemy import insert

    from showkeeper.config import load_settings
    from showkeeper.context import open_context
    from showkeeper.db.models import Series
    from showkeeper.logging import setup_logging
    from showkeeper.sources.service import refresh_all

    setup_logging("WARNING")  # no summary line per pass on the console
    settings = load_settings(
        env_file=None,
        data_dir=data_dir,
        allowed_private_networks="127.0.0.0/8",
        scheduler_enabled=False,  # open_context starts no services anyway; said for clarity
    )
    async with open_context(settings) as ctx:
        async with ctx.db.write() as s:
            await s.execute(
                insert(Series),
                [
                    {
                        "key": f"bench-{i}",
                        "folder": f"Bench {i}",
                        "name": f"Bench {i}",
                        "source_kind": "feed",
                        "source_url": url,
                        "loading_status": "completed",
                        "options": {},
                        "source_state": {},
                    }
                    for i, url in enumerate(urls)
                ],
            )
        started = time.perf_counter()
        first = await refresh_all(ctx)
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        second = await refresh_all(ctx)
        second_s = time.perf_counter() - started
    ok = (
        first.changed == len(urls)
        and first.episodes_added == len(urls) * items
        and second.not_modified == len(urls)
    )
    return {"first_s": first_s, "second_s": second_s, "ok": ok}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--sample", type=int, default=200, help="reference URLs timed (0: all)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.feeds, args.items)
        return

    showkeeper = Path(sys.executable).with_name("showkeeper")
    exe = str(showkeeper) if showkeeper.exists() else shutil.which("showkeeper") or "showkeeper"
    n = args.feeds
    server = Server(n, args.items)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-refresh-") as tmp:
            work = Path(tmp)
            urls = [server.url(i) for i in range(n)]
            feeds_file = work / "feeds.opml"
            feeds_file.write_bytes(opml(urls))
            data = work / "data"
            env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWKEEPER_")}
            env["SHOWKEEPER_DATA_DIR"] = str(data)
            env["SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS"] = "127.0.0.0/8"

            server.stats(reset=True)
            first_s, first_out = run_cli(
                [exe, "source", "import-opml", str(feeds_file)], env, work, f"{n} added"
            )
            first_sent = server.stats(reset=True)
            first_rows = stored(data)
            second_s, second_out = run_cli([exe, "source", "refresh"], env, work, "refreshed")
            second_sent = server.stats(reset=True)
            print(f"import-opml: {first_out}\nrefresh: {second_out}")

            extra = asyncio.run(in_process(urls, args.items, work / "data-in-process"))
            server.stats(reset=True)

            step = 1 if args.sample <= 0 or args.sample >= n else n / args.sample
            sample = [urls[int(i * step)] for i in range(min(n, args.sample or n))]
            ref_first, ref_second, ref_ok = reference(sample, args.items)
            ref_sent = server.stats(reset=True)
    finally:
        server.close()
    scale = n / len(sample)
    ref_first_s, ref_second_s = ref_first * scale, ref_second * scale
    first_ok = first_sent == {"200": n, "304": 0, "other": 0} and first_rows == {
        "series_completed": n,
        "episodes": n * args.items,
    }
    second_ok = second_sent == {"200": 0, "304": n, "other": 0}
    ref_ok = ref_ok and ref_sent == {"200": len(sample), "304": len(sample), "other": 0}
    ratio_first, ratio_second = first_s / ref_first_s, second_s / ref_second_s
    line = {
        "bench": "refresh",
        "feeds": n,
        "hosts": HOSTS,
        "items_per_feed": args.items,
        "delay_ms": int(DELAY * 1000),
        "settings": "defaults (source_refresh_concurrency 48, per host 4; OPML loads within the same limits)",
        "showkeeper_first_s": round(first_s, 2),
        "showkeeper_first": "showkeeper source import-opml feeds.opml",
        "reference_first": "sequential feedparser.parse(url)",
        "reference_first_s": round(ref_first_s, 2),
        "ratio_first": round(ratio_first, 4),
        "goal_first": GOAL_FIRST,
        "showkeeper_second_s": round(second_s, 2),
        "showkeeper_second": "showkeeper source refresh",
        "reference_second": "sequential feedparser.parse(url, etag=, modified=)",
        "reference_second_s": round(ref_second_s, 2),
        "ratio_second": round(ratio_second, 4),
        "goal_second": GOAL_SECOND,
        "reference_sampled": len(sample),
        "reference_scaled_by": round(scale, 2),
        "in_process_refresh_first_s": round(float(extra["first_s"]), 2),
        "in_process_refresh_second_s": round(float(extra["second_s"]), 2),
        "first_pass_ok": first_ok,
        "second_pass_ok": second_ok,
        "reference_ok": ref_ok,
        "in_process_ok": bool(extra["ok"]),
        "met": ratio_first <= GOAL_FIRST and ratio_second <= GOAL_SECOND,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(line))
    if not (first_ok and second_ok and ref_ok and extra["ok"]):
        sys.exit(f"a pass went wrong: {first_sent} {first_rows} {second_sent} {ref_sent}")


if __name__ == "__main__":
    main()
