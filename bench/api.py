"""API and WebSocket benchmark against a real server (uvicorn, a subprocess).

Data: 2,000 series and 100,000 episodes (50 each, half downloaded) in a fresh SQLite file.
The server runs at the default configuration (scheduler and download workers on, log level
INFO), in steady state: the scheduler's last source refresh is recorded as just done, as on
a server that has been up for a while (otherwise it would start refreshing the 2,000
unreachable sources during the measurement).

(a) 32 concurrent clients for 10 s on GET /health (the reference: no auth, a few cheap
    checks), then 32 clients for 10 s on GET /api/series (first page, API key auth, episode
    counts). Goal: p99(series) <= 3 x p99(health). Requests per second are printed beside
    each p99.
(b) 200 WebSocket clients join `download_progress`; the server publishes 10 events/s for
    10 s (10 downloads, each updating once a second, so the per-item throttle of 0.5 s lets
    every event through). Delay = receive time - the event's publish time (`ts`, same
    machine clock). Goal: p99 <= 100 ms.

The server is this script with --serve: the app from showkeeper's own factory
(`showkeeper.web.app.create_app`) under uvicorn with the options `showkeeper serve` uses,
plus one route added here to that app object, POST /api/_bench/publish, which publishes the
events inside the server (it needs the API key like every /api route). Nothing in the
showkeeper package exists for this benchmark.

Run: .venv/bin/python bench/api.py [--seconds 10] [--clients 32] [--ws-clients 200]
Quick: .venv/bin/python bench/api.py --seconds 2 --series 200 --ws-clients 20
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
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta

import aiohttp
from bench.support import free_port, percentile, start_server, wait_ready
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import insert

from showkeeper.automation.state import JobState, save_states
from showkeeper.config import load_settings
from showkeeper.context import prepare_storage
from showkeeper.db.models import Episode, Series

PASSWORD = "bench password 123"
GOAL = 3.0
WS_GOAL_MS = 100


async def populate(data_dir: Path, library: Path, n_series: int, per_series: int) -> None:
    settings = load_settings(env_file=None, data_dir=data_dir, library_dir=library)
    db = await prepare_storage(settings)
    now = datetime.now(UTC)
    try:
        async with db.write() as s:
            await s.execute(
                insert(Series),
                [
                    {
                        "key": f"series-{i:05d}",
                        "folder": f"Series {i:05d} (2020)",
                        "name": f"Series {(i * 7919) % n_series:05d}",
                        "year": 2000 + i % 25,
                        "source_kind": "feed",
                        "source_url": f"https://example.invalid/{i}.xml",
                        "monitored": True,
                        "loading_status": "completed",
                        "options": {},
                        "source_state": {},
                        "overview": "An overview of a series. " * 4,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(n_series)
                ],
            )
        rows = [
            {
                "series_id": sid,
                "season": 1 + e // 25,
                "episode": 1 + e % 25,
                "title": f"Episode {e}",
                "candidates": [],
                "at_source": True,
                "monitored": True,
                "is_downloaded": e % 2 == 0,
                "created_at": now,
                "updated_at": now,
            }
            for sid in range(1, n_series + 1)
            for e in range(per_series)
        ]
        for start in range(0, len(rows), 10_000):
            async with db.write() as s:
                await s.execute(insert(Episode), rows[start : start + 10_000])
        # steady state: the periodic refresh ran just now, the next one is hours away
        interval = timedelta(minutes=settings.source_refresh_interval_min)
        refreshed = JobState(last_run=now, last_status="ok", next_run=now + interval)
        await save_states(db, {"refresh": refreshed})
    finally:
        await db.dispose()


# -- the server process ----------------------------------------------------------------------


def add_publish_route(app: FastAPI) -> None:
    """POST /api/_bench/publish: `count` events at `rate_per_s`, round-robin over `items`."""

    async def publish(request: Request) -> JSONResponse:
        body = await request.json()
        count, rate, items = int(body["count"]), float(body["rate_per_s"]), int(body["items"])
        bus = request.app.state.ctx.bus
        loop = asyncio.get_running_loop()
        start = loop.time()
        for n in range(count):
            delay = start + n / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            bus.publish(body["type"], queue_id=n % items, downloaded_bytes=n, seq=n)
        return JSONResponse({"published": count})

    app.add_api_route("/api/_bench/publish", publish, methods=["POST"], include_in_schema=False)


def serve(port: int) -> None:
    """What `showkeeper serve` does (src/showkeeper/cli/serve.py), plus the publish route."""
    import uvicorn

    from showkeeper.logging import setup_logging
    from showkeeper.web.app import create_app

    settings = load_settings()  # SHOWKEEPER_DATA_DIR and _LIBRARY_DIR; all else default
    setup_logging(
        settings.log_level, logs_dir=settings.logs_dir, console_format=settings.log_format
    )
    app = create_app(settings)
    add_publish_route(app)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
    )
    uvicorn.Server(config).run()


def start_api_server(data_dir: Path, library: Path, port: int) -> subprocess.Popen[bytes]:
    """This script's own server (the app plus the bench's publish route), default settings."""
    argv = [sys.executable, __file__, "--serve", str(port)]
    return start_server(data_dir, library, port, argv=argv)


# -- the client side ---------------------------------------------------------------------------


async def load(
    url: str, headers: dict[str, str], clients: int, seconds: float
) -> tuple[list[float], float]:
    """Latencies of every request, and the wall time the load took (for requests/s)."""
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = started + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as http:

        async def client() -> None:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                async with http.get(url) as resp:
                    await resp.read()
                    if resp.status != 200:
                        raise SystemExit(f"{url} answered {resp.status}")
                latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, time.perf_counter() - started


async def websocket_fanout(base: str, key: str, n_clients: int, seconds: int) -> dict[str, float]:
    from websockets.asyncio.client import connect

    ws_url = base.replace("http://", "ws://") + "/ws/connect"
    delays: list[float] = []
    expected = seconds * 10

    async def client(ready: asyncio.Event, joined: list[int]) -> None:
        async with connect(ws_url, additional_headers={"X-Api-Key": key}, max_queue=None) as ws:
            await ws.recv()  # welcome
            await ws.send(json.dumps({"action": "join", "room": "download_progress"}))
            await ws.recv()  # joined
            joined.append(1)
            if len(joined) == n_clients:
                ready.set()
            got = 0
            while got < expected:
                message = json.loads(await ws.recv())
                if message["type"] == "download_progress":
                    delays.append(time.time() - message["ts"])
                    got += 1

    ready = asyncio.Event()
    joined: list[int] = []
    tasks = [asyncio.create_task(client(ready, joined)) for _ in range(n_clients)]
    await asyncio.wait_for(ready.wait(), 60)
    async with aiohttp.ClientSession(headers={"X-Api-Key": key}) as http:
        body = {"type": "download_progress", "count": expected, "rate_per_s": 10, "items": 10}
        async with http.post(base + "/api/_bench/publish", json=body) as resp:
            if resp.status != 200:
                raise SystemExit(f"publish answered {resp.status}: {await resp.text()}")
    await asyncio.wait_for(asyncio.gather(*tasks), seconds + 60)
    return {
        "ws_messages": len(delays),
        "ws_p50_ms": round(sorted(delays)[len(delays) // 2] * 1000, 2),
        "ws_p99_ms": round(percentile(delays, 0.99) * 1000, 2),
        "ws_max_ms": round(max(delays) * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--ws-clients", type=int, default=200)
    parser.add_argument("--series", type=int, default=2000)
    parser.add_argument("--episodes-per-series", type=int, default=50)
    parser.add_argument("--ws-only", action="store_true", help="skip the HTTP load (a)")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
    else:
        asyncio.run(run(args))


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="sk-bench-api-") as tmp:
        data_dir, library = Path(tmp) / "data", Path(tmp) / "library"
        data_dir.mkdir()
        library.mkdir()
        t0 = time.perf_counter()
        await populate(data_dir, library, args.series, args.episodes_per_series)
        print(f"populated in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_api_server(data_dir, library, port)
        try:
            await wait_ready(base, proc)
            async with (
                aiohttp.ClientSession() as http,
                http.post(base + "/api/auth/setup", json={"password": PASSWORD}) as resp,
            ):
                key = (await resp.json())["api_key"]
            auth = {"X-Api-Key": key}
            async with (
                aiohttp.ClientSession(headers=auth) as http,
                http.get(base + "/api/series") as resp,
            ):
                first = await resp.json()
            series_ok = first["total"] == args.series and first["items"][0]["missing_count"] > 0
            if not series_ok:
                raise SystemExit(f"GET /api/series does not list the data: {first}")
            http_figures: dict[str, object] = {}
            if not args.ws_only:
                await load(base + "/health", {}, args.clients, 1)  # warm-up
                health, health_s = await load(base + "/health", {}, args.clients, args.seconds)
                series, series_s = await load(
                    base + "/api/series", auth, args.clients, args.seconds
                )
                health_p99, series_p99 = (
                    percentile(health, 0.99) * 1000,
                    percentile(series, 0.99) * 1000,
                )
                http_figures = {
                    "series_p99_ms": round(series_p99, 2),
                    "series_rps": round(len(series) / series_s, 1),
                    "series_requests": len(series),
                    "reference": "GET /health, same load, default configuration",
                    "health_p99_ms": round(health_p99, 2),
                    "health_rps": round(len(health) / health_s, 1),
                    "health_requests": len(health),
                    "ratio": round(series_p99 / health_p99, 2),
                    "goal": GOAL,
                }
            load_during = os.getloadavg()[0]
            ws = await websocket_fanout(base, key, args.ws_clients, args.seconds)
        finally:
            proc.terminate()
            proc.wait(30)
    result = {
        "bench": "api",
        "series": args.series,
        "episodes": args.series * args.episodes_per_series,
        **http_figures,
        "clients": args.clients,
        "seconds": args.seconds,
        "ws_clients": args.ws_clients,
        **ws,
        "ws_expected": args.ws_clients * args.seconds * 10,
        "ws_goal_ms": WS_GOAL_MS,
        # the machine is shared: context for the figures
        "load_average_1m_after_http": round(load_during, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    ratio_ok = args.ws_only or float(http_figures["ratio"]) <= GOAL  # type: ignore[arg-type]
    result["met"] = ratio_ok and ws["ws_p99_ms"] <= WS_GOAL_MS
    print(json.dumps(result))


if __name__ == "__main__":
    main()
