"""Metadata benchmark: 500 series against a TMDB-shaped server, every answer after 50 ms.

A separate server process (aiohttp, this script with --serve) answers on 127.0.0.1, each
response after a 50 ms delay: /3/search/tv, /3/configuration, /3/tv/<id>, /3/tv/<id>/images,
/3/tv/<id>/season/1 in TMDB's documented shapes, and the images they name (a 400x600 poster,
a 1280x720 backdrop, a 500x200 PNG logo, a season poster, made with Pillow at start). It
counts what it served (GET /stats), so each side is checked.

Both sides as their users run them, every showkeeper setting at its default
(SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS=127.0.0.0/8 only lets the SSRF guard reach loopback):

- showkeeper: `showkeeper nfo` (a new process) over a library of 500 series (rows made
  beforehand, two episodes each, an empty library folder): for each, search TMDB, match,
  read details, images and the season, write tvshow.nfo, poster, fanart, logo and the season
  poster, every image checked with Pillow. Peak RSS is that process's.
- reference: the same requests made one after another (urllib: the five API calls and the
  four images of each series). It takes ~250 s for 500 series, so it runs over a sample
  (default 50) and is scaled linearly ("reference_sampled").

Goal: showkeeper <= 0.15 x the reference; peak RSS <= 200 MB. Extra keys: the same load
in-process (`repair_metadata`, no process start), at the same defaults.

Run: .venv/bin/python bench/metadata.py [--series 500] [--sample 50]
Quick: .venv/bin/python bench/metadata.py --series 60 --sample 5
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
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
    stats = {"api": 0, "images": 0, "other": 0}

    async def handle(request: web.Request) -> web.StreamResponse:
        path = request.path
        if path == "/stats":
            out = dict(stats)
            if request.query.get("reset"):
                stats.update(api=0, images=0, other=0)
            return web.json_response(out)
        await asyncio.sleep(DELAY)
        response = await answer(request, path)
        kind = "images" if path.startswith("/t/p/") else "api"
        stats[kind if response.status == 200 else "other"] += 1
        return response

    async def answer(request: web.Request, path: str) -> web.StreamResponse:
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


def reference(port: int, sample: int) -> tuple[float, bool]:
    started = time.perf_counter()
    ok = True
    for n in range(sample):
        for url in urls_of(port, n):
            with urllib.request.urlopen(url, timeout=30) as resp:
                ok &= resp.status == 200 and bool(resp.read())
    return time.perf_counter() - started, ok


def stats(port: int) -> dict[str, int]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats?reset=1", timeout=10) as resp:
        data: dict[str, int] = json.loads(resp.read())
    return data


def settings_env(port: int, data_dir: Path, library: Path) -> dict[str, str]:
    return {
        "SHOWKEEPER_DATA_DIR": str(data_dir),
        "SHOWKEEPER_LIBRARY_DIR": str(library),
        "SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
        "SHOWKEEPER_TMDB_API_KEY": KEY,
        "SHOWKEEPER_TMDB_BASE_URL": f"http://127.0.0.1:{port}/3",
        "SHOWKEEPER_LOG_LEVEL": "WARNING",
    }


async def prepare(env: dict[str, str], count: int) -> None:
    """A data dir with ``count`` series rows (two episodes each) and an empty library."""
    from sqlalchemy import insert, select

    from showkeeper.config import load_settings
    from showkeeper.context import open_context
    from showkeeper.db.models import Episode, Series

    settings = load_settings(env_file=None, data_dir=env["SHOWKEEPER_DATA_DIR"])
    async with open_context(settings) as ctx, ctx.db.write() as s:
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


def outcome(data_dir: Path, library: Path) -> dict[str, int]:
    import sqlite3

    con = sqlite3.connect(data_dir / "showkeeper.db")
    try:
        matched = int(
            con.execute("SELECT count(*) FROM series WHERE tmdb_id IS NOT NULL").fetchone()[0]
        )
        clean = int(
            con.execute(
                "SELECT count(*) FROM series WHERE has_nfo AND logo_loaded AND images_loaded"
                " AND coalesce(metadata_errors, 'null') = 'null'"
            ).fetchone()[0]
        )
    finally:
        con.close()
    files = sum(1 for p in library.rglob("*") if p.is_file())
    return {"matched": matched, "complete": clean, "files": files}


def run_nfo(env: dict[str, str], cwd: Path) -> tuple[float, str, float]:
    """`showkeeper nfo` as a user runs it: seconds, its summary line, its peak RSS (MB)."""
    argv = [str(ROOT / ".venv" / "bin" / "showkeeper"), "nfo"]
    started = time.perf_counter()
    done = subprocess.run(
        argv,
        env={"PATH": os.environ.get("PATH", ""), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"showkeeper nfo exited {done.returncode}: {done.stderr[-3000:]}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lines = [line for line in done.stdout.splitlines() if "series loaded" in line]
    return elapsed, lines[-1].strip() if lines else "", peak_mb


async def in_process(env: dict[str, str]) -> float:
    from showkeeper.config import load_settings
    from showkeeper.context import open_context
    from showkeeper.metadata.loader import repair_metadata

    settings = load_settings(
        env_file=None,
        data_dir=env["SHOWKEEPER_DATA_DIR"],
        library_dir=env["SHOWKEEPER_LIBRARY_DIR"],
        allowed_private_networks=env["SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS"],
        tmdb_api_key=env["SHOWKEEPER_TMDB_API_KEY"],
        tmdb_base_url=env["SHOWKEEPER_TMDB_BASE_URL"],
        log_level="WARNING",
    )
    async with open_context(settings) as ctx:
        started = time.perf_counter()
        await repair_metadata(ctx, force=True)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=500)
    parser.add_argument("--sample", type=int, default=50, help="reference series timed")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    n = args.series
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline() if server.stdout is not None else ""
        if not line.strip().isdigit():
            sys.exit(f"TMDB-shaped server did not start: {line!r}")
        port = int(line)
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            runs = {}
            for name in ("cli", "in_process"):
                (work / name / "library").mkdir(parents=True)
                env = settings_env(port, work / name / "data", work / name / "library")
                asyncio.run(prepare(env, n))
                runs[name] = env
            stats(port)
            cli_s, summary, peak_mb = run_nfo(runs["cli"], work)
            cli_sent = stats(port)
            cli_out = outcome(work / "cli" / "data", work / "cli" / "library")
            extra_s = asyncio.run(in_process(runs["in_process"]))
            extra_sent = stats(port)
            extra_out = outcome(work / "in_process" / "data", work / "in_process" / "library")
        sample = min(args.sample, n)
        ref_s, ref_ok = reference(port, sample)
        ref_sent = stats(port)
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(10)
    scale = n / sample
    reference_s = ref_s * scale
    expected = {"api": 5 * n, "images": 4 * n, "other": 0}
    want = {"matched": n, "complete": n, "files": 5 * n}
    cli_ok = cli_sent == expected and cli_out == want
    extra_ok = extra_sent == expected and extra_out == want
    ref_ok = ref_ok and ref_sent == {"api": 5 * sample, "images": 4 * sample, "other": 0}
    ratio = cli_s / reference_s
    result = {
        "bench": "metadata",
        "series": n,
        "delay_ms": int(DELAY * 1000),
        "settings": "defaults (metadata_concurrency 8)",
        "showkeeper": "showkeeper nfo",
        "showkeeper_s": round(cli_s, 2),
        "showkeeper_summary": summary,
        "reference": "the same requests one after another (urllib)",
        "reference_s": round(reference_s, 2),
        "reference_sampled": sample,
        "reference_scaled_by": round(scale, 2),
        "ratio": round(ratio, 4),
        "goal": GOAL,
        "peak_rss_mb": round(peak_mb, 1),
        "peak_rss_goal_mb": RSS_GOAL_MB,
        "in_process_s": round(extra_s, 2),
        "served": cli_sent,
        "written": cli_out,
        "cli_ok": cli_ok,
        "in_process_ok": extra_ok,
        "reference_ok": ref_ok,
        "met": ratio <= GOAL and peak_mb <= RSS_GOAL_MB,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result))
    if not (cli_ok and extra_ok and ref_ok):
        sys.exit(f"a run went wrong: {cli_sent} {cli_out} {extra_sent} {extra_out} {ref_sent}")


if __name__ == "__main__":
    main()
