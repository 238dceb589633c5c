"""Web UI benchmark: the Library page and a 200-episode Series page on a big library.

Data: 2,000 series and 100,000 episodes in a fresh SQLite file (one series has 200 episodes,
the others ~50, half of them downloaded), a real server (uvicorn, a subprocess).

(a) Server side: each page requested one at a time (logged in with the API key), N times
    after a warm-up; time to the whole response. Goal: p95 <= 150 ms for both. The reference,
    timed the same way in the same run: GET /health.
(b) Browser: headless Chromium (/usr/bin/chromium), logged in, loads each page N times;
    DOMContentLoaded from the navigation timing. Goal: p95 <= 1 s for both.

Run: .venv/bin/python bench/ui.py [--requests 50] [--loads 10] [--series 2000]
"""

# ruff: noqa: E402 (the sys.path fix below must run before the other imports)
from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's queue module for this script; the
# repository root instead, for bench.support
ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import argparse
import asyncio
import json
import os
import tempfile
import time
from datetime import UTC, date, datetime, timedelta

import aiohttp
from bench.support import QUIET, free_port, percentile, start_server, wait_ready
from playwright.async_api import async_playwright
from sqlalchemy import insert

from showkeeper.config import load_settings
from showkeeper.context import prepare_storage
from showkeeper.db.models import Episode, Series

PASSWORD = "bench password 123"
BIG = "series-00000"  # the series with 200 episodes


async def populate(data_dir: Path, library: Path, n_series: int, episodes: int) -> int:
    settings = load_settings(env_file=None, data_dir=data_dir, library_dir=library)
    db = await prepare_storage(settings)
    now = datetime.now(UTC)
    per_series, extra = divmod(episodes - 200, max(1, n_series - 1))
    try:
        async with db.write() as s:
            await s.execute(
                insert(Series),
                [
                    {
                        "key": f"series-{i:05d}",
                        "folder": f"Series {i:05d} (2020)",
                        "name": f"Series {(i * 7919) % n_series:05d} "
                        + "with a longer name " * (i % 3),
                        "year": 2000 + i % 25,
                        "source_kind": "feed",
                        "source_url": f"https://example.invalid/{i}.xml",
                        "monitored": True,
                        "loading_status": "completed",
                        "options": {},
                        "source_state": {},
                        "overview": "An overview of a series. " * 8,
                        "created_at": now - timedelta(minutes=i),
                        "updated_at": now,
                    }
                    for i in range(n_series)
                ],
            )
        total = 0
        batch: list[dict[str, object]] = []
        for sid in range(1, n_series + 1):
            count = 200 if sid == 1 else per_series + (1 if sid - 2 < extra else 0)
            for e in range(count):
                batch.append(
                    {
                        "series_id": sid,
                        "season": 1 + e // 25,
                        "episode": 1 + e % 25,
                        "title": f"Episode {e} of a series with a title",
                        "air_date": date(2020, 1, 1) + timedelta(days=7 * e),
                        "candidates": [{"url": f"https://example.invalid/{sid}/{e}.mp4"}],
                        "at_source": True,
                        "monitored": True,
                        "is_downloaded": e % 2 == 0,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            if len(batch) >= 10_000 or sid == n_series:
                async with db.write() as s:
                    await s.execute(insert(Episode), batch)
                total += len(batch)
                batch = []
        return total
    finally:
        await db.dispose()


async def timed(http: aiohttp.ClientSession, url: str, n: int, must: str | None) -> list[float]:
    out: list[float] = []
    for i in range(n + 3):
        t0 = time.perf_counter()
        async with http.get(url) as resp:
            body = await resp.text()
            if resp.status != 200:
                raise SystemExit(f"{url} answered {resp.status}")
        if i >= 3:  # the first few warm caches up
            out.append(time.perf_counter() - t0)
        if must is not None and must not in body:
            raise SystemExit(f"{url} does not show {must!r}")
    return out


async def browser_loads(base: str, paths: dict[str, str], loads: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {name: [] for name in paths}
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"]
        )
        page = await (await browser.new_context(viewport={"width": 1366, "height": 860})).new_page()
        await page.goto(base + "/login")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(base + "/")
        for name, path in paths.items():
            for i in range(loads + 1):
                await page.goto(base + path, wait_until="domcontentloaded")
                ms = await page.evaluate(
                    "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
                )
                if i > 0:
                    results[name].append(float(ms) / 1000)
        await browser.close()
    return results


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--series", type=int, default=2000)
    parser.add_argument("--episodes", type=int, default=100_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="sk-bench-ui-") as tmp:
        data_dir, library = Path(tmp) / "data", Path(tmp) / "library"
        data_dir.mkdir()
        library.mkdir()
        t0 = time.perf_counter()
        episodes = await populate(data_dir, library, args.series, args.episodes)
        print(f"populated {episodes} episodes in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_server(data_dir, library, port, settings=QUIET)
        try:
            await wait_ready(base, proc)
            async with (
                aiohttp.ClientSession() as http,
                http.post(base + "/api/auth/setup", json={"password": PASSWORD}) as resp,
            ):
                key = (await resp.json())["api_key"]
            await asyncio.sleep(1)  # the scan setup starts (an empty folder) ends
            async with aiohttp.ClientSession(headers={"X-Api-Key": key}) as http:
                health = await timed(http, base + "/health", args.requests, None)
                library_t = await timed(http, base + "/", args.requests, f"{args.series} series")
                series_t = await timed(http, f"{base}/series/{BIG}", args.requests, "S08E25")
            loads = await browser_loads(
                base, {"library": "/", "series": f"/series/{BIG}"}, args.loads
            )
        finally:
            proc.terminate()
            proc.wait(30)
    result = {
        "bench": "ui",
        "series": args.series,
        "episodes": episodes,
        "library_p95_ms": round(percentile(library_t, 0.95) * 1000, 1),
        "series_page_p95_ms": round(percentile(series_t, 0.95) * 1000, 1),
        "server_goal_ms": 150,
        "reference": "GET /health, same client",
        "health_p95_ms": round(percentile(health, 0.95) * 1000, 1),
        "library_dcl_p95_ms": round(percentile(loads["library"], 0.95) * 1000, 1),
        "series_dcl_p95_ms": round(percentile(loads["series"], 0.95) * 1000, 1),
        "dcl_goal_ms": 1000,
        "requests": args.requests,
        "loads": args.loads,
        "load_average_1m": round(os.getloadavg()[0], 2),  # the machine is shared: context
    }
    result["met"] = (
        result["library_p95_ms"] <= 150
        and result["series_page_p95_ms"] <= 150
        and result["library_dcl_p95_ms"] <= 1000
        and result["series_dcl_p95_ms"] <= 1000
    )
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
