"""Metadata loader benchmark: 500 series against a TMDB-shaped server, 50 ms per request.

A separate server process (aiohttp, this script with --serve) answers on 127.0.0.1, every
response after a 50 ms delay: /3/search/tv, /3/configuration, /3/tv/<id>, /3/tv/<id>/images,
/3/tv/<id>/season/1 in TMDB's documented shapes, and the images they name (a 400x600 poster,
a 1280x720 backdrop, a 500x200 PNG logo, a season poster, made with Pillow at start).

- showkeeper: 500 series rows (two episodes each) in a fresh SQLite database and an empty
  library; `repair_metadata(force=True)` loads every series (search, confident match,
  details, images, season; tvshow.nfo; poster, fanart, logo, season poster; all checked and
  written) with metadata_concurrency series at once. Peak RSS of this process is reported.
- reference: the same requests made one after another (urllib, one per series: the five API
  calls and four images) over a sample of series (default 50), scaled to 500.

Goal: showkeeper <= 0.15 x the reference; peak RSS <= 200 MB.

Run: .venv/bin/python bench/metadata.py [--series 500] [--sample 50] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ comes first on sys.path, where bench/queue.py would shadow the
# standard library's queue module.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

DELAY = 0.05
GOAL = 0.15
RSS_GOAL_MB = 200
KEY = "0123456789abcdef0123456789abcdef"


def _images() -> dict[str, tuple[bytes, str]]:
    from PIL import Image

    def encode(size: tuple[int, int], fmt: str, mode: str = "RGB") -> bytes:
        out = io.BytesIO()
        Image.new(mode, size, (40, 80, 120, 200)[: len(mode)]).save(out, fmt)
        return out.getvalue()

    return {
        "poster": (encode((400, 600), "JPEG"), "image/jpeg"),
        "backdrop": (encode((1280, 720), "JPEG"), "image/jpeg"),
        "logo": (encode((500, 200), "PNG", "RGBA"), "image/png"),
        "season": (encode((400, 600), "JPEG"), "image/jpeg"),
    }


def _show(n: int) -> dict[str, object]:
    return {
        "id": 100000 + n,
        "name": f"Bench Show {n}",
        "original_name": f"Bench Show {n}",
        "first_air_date": "2020-01-10",
        "overview": f"Series number {n}.",
        "poster_path": f"/p{n}poster.jpg",
        "backdrop_path": f"/b{n}backdrop.jpg",
        "genres": [{"id": 18, "name": "Drama"}],
        "networks": [{"id": 1, "name": "Bench TV", "logo_path": None, "origin_country": "US"}],
        "seasons": [
            {"season_number": 1, "episode_count": 2, "id": n, "poster_path": f"/s{n}season.jpg"}
        ],
    }


def serve() -> None:
    """The server process: prints its port, serves until stdin closes."""
    from aiohttp import web

    images = _images()

    async def handle(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(DELAY)
        path = request.path
        if path.startswith("/t/p/"):
            name = path.rsplit("/", 1)[-1]
            kind = next(k for k in images if k in name)
            body, ctype = images[kind]
            return web.Response(body=body, headers={"Content-Type": ctype})
        if request.query.get("api_key") != KEY:
            return web.json_response({"success": False, "status_code": 7}, status=401)
        base = f"http://127.0.0.1:{request.url.port}/t/p/"
        if path == "/3/configuration":
            return web.json_response({"images": {"base_url": base, "secure_base_url": base}})
        if path == "/3/search/tv":
            n = int(request.query["query"].rsplit(" ", 1)[-1])
            show = _show(n)
            return web.json_response({"page": 1, "results": [show], "total_results": 1})
        parts = path.split("/")  # ["", "3", "tv", id, ...]
        n = int(parts[3]) - 100000
        if len(parts) == 4:
            return web.json_response(_show(n))
        if parts[4] == "images":
            return web.json_response(
                {
                    "id": 100000 + n,
                    "backdrops": [{"file_path": f"/b{n}backdrop.jpg", "iso_639_1": None}],
                    "posters": [{"file_path": f"/p{n}poster.jpg", "iso_639_1": "en"}],
                    "logos": [{"file_path": f"/l{n}logo.png", "iso_639_1": "en"}],
                }
            )
        episodes = [
            {
                "episode_number": e,
                "name": f"Ep {e}",
                "air_date": f"2020-01-{9 + e}",
                "id": n * 10 + e,
            }
            for e in (1, 2)
        ]
        return web.json_response(
            {"season_number": 1, "poster_path": f"/s{n}season.jpg", "episodes": episodes}
        )

    async def main() -> None:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        print(runner.addresses[0][1], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()

    asyncio.run(main())


def urls_of(port: int, n: int) -> list[str]:
    api = f"http://127.0.0.1:{port}/3"
    img = f"http://127.0.0.1:{port}/t/p/original"
    q = f"api_key={KEY}"
    sid = 100000 + n
    return [
        f"{api}/search/tv?query=Bench+Show+{n}&{q}",
        f"{api}/configuration?{q}",
        f"{api}/tv/{sid}?{q}",
        f"{api}/tv/{sid}/images?{q}",
        f"{api}/tv/{sid}/season/1?{q}",
        f"{img}/p{n}poster.jpg",
        f"{img}/b{n}backdrop.jpg",
        f"{img}/l{n}logo.png",
        f"{img}/s{n}season.jpg",
    ]


def reference(port: int, sample: int) -> float:
    started = time.perf_counter()
    for n in range(sample):
        for url in urls_of(port, n):
            with urllib.request.urlopen(url, timeout=30) as resp:
                assert resp.read()
    return time.perf_counter() - started


async def showkeeper(port: int, count: int, concurrency: int) -> dict[str, object]:
    from sqlalchemy import func, insert, select

    from showkeeper.config import load_settings
    from showkeeper.context import open_context
    from showkeeper.db.models import Episode, Series
    from showkeeper.metadata.loader import repair_metadata

    with tempfile.TemporaryDirectory() as tmp:
        library = Path(tmp) / "library"
        library.mkdir()
        settings = load_settings(
            env_file=None,
            data_dir=Path(tmp) / "data",
            library_dir=library,
            allowed_private_networks="127.0.0.0/8",
            tmdb_api_key=KEY,
            tmdb_base_url=f"http://127.0.0.1:{port}/3",
            metadata_concurrency=concurrency,
            scheduler_enabled=False,
            log_level="WARNING",
        )
        async with open_context(settings) as ctx:
            async with ctx.db.write() as s:
                await s.execute(
                    insert(Series),
                    [
                        {
                            "key": f"bench-{n}",
                            "folder": f"Bench Show {n} (2020)",
                            "name": f"Bench Show {n}",
                            "year": 2020,
                            "source_kind": "local",
                            "loading_status": "completed",
                            "options": {},
                            "source_state": {},
                        }
                        for n in range(count)
                    ],
                )
                ids = dict((await s.execute(select(Series.key, Series.id))).all())
                await s.execute(
                    insert(Episode),
                    [
                        {"series_id": ids[f"bench-{n}"], "season": 1, "episode": e}
                        for n in range(count)
                        for e in (1, 2)
                    ],
                )
            started = time.perf_counter()
            results = await repair_metadata(ctx, force=True)
            elapsed = time.perf_counter() - started
            async with ctx.db.session() as s:
                matched = await s.scalar(
                    select(func.count()).select_from(Series).where(Series.tmdb_id.is_not(None))
                )
        files = sum(1 for _ in library.rglob("*") if _.is_file())
    failed = [r.key for r in results if r.errors or r.status != "completed"]
    return {
        "seconds": elapsed,
        "matched": matched,
        "files": files,
        "failed": failed[:5],
        "requests": sum(r.tmdb_requests for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=500)
    parser.add_argument("--sample", type=int, default=50, help="reference series timed")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        ours = asyncio.run(showkeeper(port, args.series, args.concurrency))
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        sample = min(args.sample, args.series)
        reference_s = reference(port, sample) * args.series / sample
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(10)
    seconds = float(ours["seconds"])  # type: ignore[arg-type]
    result = {
        "bench": "metadata",
        "series": args.series,
        "delay_ms": int(DELAY * 1000),
        "metadata_concurrency": args.concurrency,
        "showkeeper_s": round(seconds, 2),
        "tmdb_requests": ours["requests"],
        "matched": ours["matched"],
        "files_written": ours["files"],
        "failed": ours["failed"],
        "reference": "the same requests one after another (urllib)",
        "reference_s": round(reference_s, 2),
        "reference_sampled": sample,
        "ratio": round(seconds / reference_s, 4),
        "goal": GOAL,
        "peak_rss_mb": round(peak_mb, 1),
        "peak_rss_goal_mb": RSS_GOAL_MB,
    }
    result["met"] = (
        result["ratio"] <= GOAL
        and peak_mb <= RSS_GOAL_MB
        and ours["matched"] == args.series
        and not ours["failed"]
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
