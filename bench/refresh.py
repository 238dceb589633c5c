"""Source refresh benchmark: 1,000 feeds of 20 items, each answer delayed by 100 ms.

A separate server process (aiohttp, this script with --serve) serves /feed/<n>.xml on
127.0.0.1 with a strong ETag, answering 304 to a matching If-None-Match, every response
after a 100 ms delay.

- showkeeper: 1,000 series rows (kind feed) in a fresh SQLite database, then
  `refresh_all` twice: the first fetches, parses and stores 20,000 episodes; the second gets
  304 for every feed. Goals: first <= 1/10 and second <= 1/20 of the reference.
- reference: a sequential loop of plain `feedparser.parse(url)` over the same URLs. It takes
  > 100 s for all 1,000, so it runs over a sample (default 200) and is scaled linearly
  ("reference_sampled" in the JSON line).

All feeds are on one host, so the per-host limit binds: the bench sets
source_per_host_concurrency to 64 (default 4, polite to real servers) and
source_refresh_concurrency to 64 (default 48).

Run: .venv/bin/python bench/refresh.py [--feeds 1000] [--items 20] [--sample 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ comes first on sys.path, where bench/queue.py would shadow the
# standard library's queue module.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

DELAY = 0.1
CONCURRENCY = 64
PER_HOST = 64
GOAL_FIRST = 0.1
GOAL_SECOND = 0.05


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
    """The server process: prints its port, serves until stdin closes."""
    from aiohttp import web

    bodies = {n: feed_body(n, items) for n in range(feeds)}

    async def handle(request: web.Request) -> web.Response:
        await asyncio.sleep(DELAY)
        n = int(request.match_info["n"])
        etag = f'"feed-{n}-v1"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=bodies[n], headers={"ETag": etag, "Content-Type": "application/rss+xml"}
        )

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{n:\\d+}.xml", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port = runner.addresses[0][1]
        print(port, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()

    asyncio.run(main())


def reference(urls: list[str]) -> float:
    import feedparser

    started = time.perf_counter()
    for url in urls:
        parsed = feedparser.parse(url)
        assert len(parsed.entries) > 0, url
    return time.perf_counter() - started


async def showkeeper_refresh(urls: list[str], items: int) -> tuple[float, float]:
    from sqlalchemy import func, insert, select

    from showkeeper.config import load_settings
    from showkeeper.context import open_context
    from showkeeper.db.models import Episode, Series
    from showkeeper.sources.service import refresh_all

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            env_file=None,
            data_dir=tmp,
            allowed_private_networks="127.0.0.0/8",
            source_refresh_concurrency=CONCURRENCY,
            source_per_host_concurrency=PER_HOST,
            scheduler_enabled=False,
            log_level="WARNING",
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
            assert first.changed == len(urls), first.as_dict()
            async with ctx.db.session() as s:
                stored = await s.scalar(select(func.count()).select_from(Episode))
            assert stored == len(urls) * items, stored
            started = time.perf_counter()
            second = await refresh_all(ctx)
            second_s = time.perf_counter() - started
            assert second.not_modified == len(urls), second.as_dict()
    return first_s, second_s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--sample", type=int, default=200, help="reference URLs timed (0: all)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.feeds, args.items)
        return

    server = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            "--feeds",
            str(args.feeds),
            "--items",
            str(args.items),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        urls = [f"http://127.0.0.1:{port}/feed/{n}.xml" for n in range(args.feeds)]
        first_s, second_s = asyncio.run(showkeeper_refresh(urls, args.items))
        sample = urls if args.sample <= 0 else urls[: args.sample]
        reference_s = reference(sample) * len(urls) / len(sample)
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(10)
    result = {
        "bench": "refresh",
        "feeds": args.feeds,
        "items_per_feed": args.items,
        "delay_ms": int(DELAY * 1000),
        "source_refresh_concurrency": CONCURRENCY,
        "source_per_host_concurrency": PER_HOST,
        "showkeeper_first_s": round(first_s, 2),
        "showkeeper_second_s": round(second_s, 2),
        "reference": "sequential feedparser.parse(url)",
        "reference_s": round(reference_s, 2),
        "reference_sampled": len(sample),
        "ratio_first": round(first_s / reference_s, 4),
        "goal_first": GOAL_FIRST,
        "ratio_second": round(second_s / reference_s, 4),
        "goal_second": GOAL_SECOND,
    }
    result["met"] = result["ratio_first"] <= GOAL_FIRST and result["ratio_second"] <= GOAL_SECOND
    print(json.dumps(result))


if __name__ == "__main__":
    main()
