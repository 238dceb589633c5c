"""Benchmark: the turnaround between two GETs on one kept-alive connection.

A real aiohttp server on 127.0.0.1 serves EPISODES distinct media files (a short MP4 made by
ffmpeg, padded with random bytes to SIZE) with DELAY before each answer and RATE bytes/s per
connection, and records for every request its client port (the connection), when its
handler started and when its body was sent.

- showkeeper: a series with those episodes (feed-like candidates: type and size known) is
  downloaded by the worker pool the way `showkeeper download` runs it (open_context with
  download_companions, foreground.run_until_finished), at CONCURRENCY transfers and per-host
  concurrency, defaults otherwise;
- reference: a bare aiohttp client, one ClientSession, CONCURRENCY tasks each GETting the
  next file and writing it to disk (what a minimal podcast catcher does).

The gap is the time from the end of one GET's response on a connection to the start of the
next GET on the same connection, as the server sees it (a HEAD in between counts as gap). Printed
per tool: requests, HEADs, connections, and the gap's median, 90th percentile and max;
the sha256 of every file each side saved is compared with the served ones.
Goal: showkeeper's median gap <= 2 x the reference's + 5 ms (loopback noise).

Run: .venv/bin/python bench/warm.py [--episodes 24] [--size-mb 2] [--concurrency 4]
"""

from __future__ import annotations

import os
import sys

# Run as a script, this file's folder comes first on sys.path, and bench/queue.py would
# shadow the standard library's `queue` module (imported by asyncio and logging).
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import hashlib  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

from aiohttp import ClientSession, web  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.downloads.queue_support import add_series  # noqa: E402
from tests.integration.downloads.servers import media_bytes  # noqa: E402

from showkeeper.config import load_settings  # noqa: E402
from showkeeper.context import open_context  # noqa: E402
from showkeeper.downloads import foreground, service  # noqa: E402
from showkeeper.logging import setup_logging  # noqa: E402
from showkeeper.services import download_companions  # noqa: E402

MiB = 1024 * 1024


@dataclass
class Hit:
    method: str
    path: str
    peer: int
    start: float
    end: float = 0.0


class LoggingServer:
    """Files by path; DELAY before each answer, RATE bytes/s per response."""

    def __init__(self, files: dict[str, bytes], delay: float, rate: float) -> None:
        self.files = files
        self.delay = delay
        self.rate = rate
        self.hits: list[Hit] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        assert site._server is not None
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        hit = Hit(request.method, request.path, peer[1] if peer else 0, time.perf_counter())
        self.hits.append(hit)
        await asyncio.sleep(self.delay)
        body = self.files.get(request.path)
        if body is None:
            hit.end = time.perf_counter()
            return web.Response(status=404)
        response = web.StreamResponse(
            headers={"Content-Type": "video/mp4", "Accept-Ranges": "bytes", "ETag": '"1"'}
        )
        response.content_length = len(body)
        await response.prepare(request)
        if request.method != "HEAD":
            step = 64 * 1024
            began = time.perf_counter()
            for offset in range(0, len(body), step):
                await response.write(body[offset : offset + step])
                ahead = (offset + step) / self.rate - (time.perf_counter() - began)
                if ahead > 0:
                    await asyncio.sleep(ahead)
            await response.write_eof()
        hit.end = time.perf_counter()
        return response


def gaps(hits: list[Hit]) -> list[float]:
    """End of one GET's response to the start of the next GET on the same connection
    (seconds; whatever else the connection carried in between counts as gap)."""
    by_peer: dict[int, list[Hit]] = {}
    for hit in hits:
        if hit.method == "GET":
            by_peer.setdefault(hit.peer, []).append(hit)
    out: list[float] = []
    for seen in by_peer.values():
        seen.sort(key=lambda h: h.start)
        out += [b.start - a.end for a, b in itertools.pairwise(seen)]
    return out


def summary(name: str, hits: list[Hit], wall: float) -> dict[str, object]:
    ms = sorted(g * 1000 for g in gaps(hits))
    return {
        "tool": name,
        "wall_s": round(wall, 2),
        "requests": len(hits),
        "heads": sum(h.method == "HEAD" for h in hits),
        "connections": len({h.peer for h in hits}),
        "gap_median_ms": round(statistics.median(ms), 1) if ms else None,
        "gap_p90_ms": round(ms[int(0.9 * (len(ms) - 1))], 1) if ms else None,
        "gap_max_ms": round(max(ms), 1) if ms else None,
    }


async def run_showkeeper(server: LoggingServer, paths: list[str], root: Path, conc: int) -> float:
    settings = load_settings(
        env_file=None,
        data_dir=root / "data",
        library_dir=root / "library",
        allowed_private_networks="127.0.0.0/8",
        scheduler_enabled=False,
        download_workers_in_server=False,
        download_concurrency=conc,
        download_per_host_concurrency=conc,
    )
    (root / "library").mkdir(parents=True)
    began = time.perf_counter()
    async with open_context(settings, services=download_companions) as ctx:
        episodes = await add_series(
            ctx.db,
            "bench",
            [
                (
                    1,
                    n + 1,
                    [
                        {
                            "url": f"http://127.0.0.1:{server.port}{path}",
                            "mime": "video/mp4",
                            "size": len(server.files[path]),
                        }
                    ],
                )
                for n, path in enumerate(paths)
            ],
            name="Bench",
        )
        queued = await service.enqueue_episodes(ctx, episodes)
        final = await foreground.run_until_finished(ctx, queued.item_ids)
    wall = time.perf_counter() - began
    if set(final.values()) != {"completed"}:
        raise SystemExit(f"showkeeper did not complete every episode: {final}")
    return wall


async def run_reference(server: LoggingServer, paths: list[str], root: Path, conc: int) -> float:
    out = root / "reference"
    out.mkdir(parents=True)
    todo = list(paths)
    began = time.perf_counter()
    async with ClientSession() as session:

        async def worker() -> None:
            while todo:
                path = todo.pop(0)
                async with session.get(f"http://127.0.0.1:{server.port}{path}") as resp:
                    with open(out / path.strip("/"), "wb") as fh:
                        async for chunk in resp.content.iter_chunked(256 * 1024):
                            fh.write(chunk)

        await asyncio.gather(*(worker() for _ in range(conc)))
    return time.perf_counter() - began


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--episodes", type=int, default=24)
    parser.add_argument("--size-mb", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds before each answer")
    parser.add_argument("--rate-mb", type=float, default=4.0, help="MB/s per connection")
    args = parser.parse_args()
    setup_logging("WARNING")
    files = {
        f"/e{n:03d}.mp4": media_bytes(int(args.size_mb * MiB) + n) for n in range(args.episodes)
    }
    paths = sorted(files)
    results: dict[str, dict[str, object]] = {}
    intact: dict[str, bool] = {}
    wanted = sorted(hashlib.sha256(body).hexdigest() for body in files.values())
    with tempfile.TemporaryDirectory(prefix="warm-bench-") as tmp:
        for name, run in (("reference", run_reference), ("showkeeper", run_showkeeper)):
            server = LoggingServer(files, args.delay, args.rate_mb * MiB)
            await server.start()
            try:
                wall = await run(server, paths, Path(tmp) / name, args.concurrency)
            finally:
                await server.stop()
            results[name] = summary(name, server.hits, wall)
            got = (Path(tmp) / name).rglob("*.mp4")
            intact[name] = sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in got) == wanted
    ref, ours = results["reference"], results["showkeeper"]
    goal = 2 * float(ref["gap_median_ms"] or 0) + 5  # type: ignore[arg-type]
    met = ours["gap_median_ms"] is not None and float(ours["gap_median_ms"]) <= goal  # type: ignore[arg-type]
    line = {
        "bench": "warm",
        "episodes": args.episodes,
        "size_mb": args.size_mb,
        "concurrency": args.concurrency,
        "showkeeper": ours,
        "reference": ref,
        "gap_goal_ms": round(goal, 1),
        "sha256_equal_by_side": intact,
        "met": met,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(line))
    sys.exit(0 if met and all(intact.values()) else 1)


if __name__ == "__main__":
    os.environ.setdefault("SHOWKEEPER_LOG_LEVEL", "WARNING")
    asyncio.run(main())
