"""Helpers for the queue and worker tests: rows inserted with the ORM, and a real media
server on a chosen loopback address that records when each request started and ended."""

from __future__ import annotations

import asyncio
import http.server
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import insert

from showkeeper.db import Database
from showkeeper.db.models import Episode, Series


async def add_series(
    db: Database,
    key: str,
    episodes: Sequence[tuple[int, int, list[dict[str, Any]]]],
    *,
    name: str | None = None,
    year: int | None = None,
    monitored: bool = True,
) -> list[int]:
    """Insert a series and its episodes ``(season, episode, candidates)``; return episode ids."""
    name = name or key.replace("-", " ").title()
    folder = f"{name} ({year})" if year else name
    async with db.write() as s:
        series_id = (
            await s.execute(
                insert(Series)
                .values(
                    key=key,
                    folder=folder,
                    name=name,
                    year=year,
                    monitored=monitored,
                    options={},
                    source_state={},
                )
                .returning(Series.id)
            )
        ).scalar_one()
        if not episodes:
            return []
        rows = [
            {
                "series_id": series_id,
                "season": season,
                "episode": number,
                "title": f"Episode {number}",
                "candidates": candidates,
            }
            for season, number, candidates in episodes
        ]
        result = await s.execute(insert(Episode).returning(Episode.id), rows)
        return list(result.scalars())


async def wait_until(
    check: Callable[[], Awaitable[bool]], *, timeout: float = 30, every: float = 0.05
) -> None:
    """Poll ``check`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(every)


@dataclass
class Hit:
    """One request as the server saw it (wall-clock seconds, comparable with the database's
    timestamps)."""

    method: str
    path: str
    range: str | None
    start: float
    end: float = 0.0
    sent: int = 0


@dataclass
class TimedServer:
    """A real aiohttp media server on ``host``; GET bodies are sent at ``rate`` bytes/s.

    Supports HEAD and ``Range: bytes=N-``, sends an ETag, and records every request.
    ``refusals`` holds, per path, answers for its next GETs instead of the file:
    ``(status, Retry-After or None)``, each used once.
    """

    host: str = "127.0.0.1"
    rate: float | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    refusals: dict[str, list[tuple[int, str | None]]] = field(default_factory=dict)
    port: int = 0
    _runner: web.AppRunner | None = None

    def add(self, path: str, body: bytes) -> str:
        self.files[path] = body
        return f"http://{self.host}:{self.port}{path}"

    def hits_for(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    def span(self, path: str) -> tuple[float, float]:
        """First request start and last request end for a path."""
        hits = self.hits_for(path)
        return min(h.start for h in hits), max(h.end for h in hits)

    async def __aenter__(self) -> TimedServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        assert site._server is not None
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        hit = Hit(request.method, request.path, request.headers.get("Range"), time.time())
        self.hits.append(hit)
        try:
            body = self.files.get(request.path)
            if body is None:
                return web.Response(status=404, text="not found")
            refusals = self.refusals.get(request.path)
            if request.method == "GET" and refusals:
                status, retry_after = refusals.pop(0)
                extra = {} if retry_after is None else {"Retry-After": retry_after}
                return web.Response(status=status, text="slow down", headers=extra)
            start = 0
            status = 200
            headers = {"Content-Type": "video/mp4", "Accept-Ranges": "bytes", "ETag": '"v1"'}
            if hit.range and hit.range.startswith("bytes="):
                first, _, last = hit.range[6:].partition("-")
                start = int(first)
                end = int(last) + 1 if last else len(body)
                status = 206
                headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(body)}"
                body = body[start:end]
            response = web.StreamResponse(status=status, headers=headers)
            response.content_length = len(body)
            await response.prepare(request)
            if request.method == "HEAD":
                return response
            step = 16 * 1024
            for offset in range(0, len(body), step):
                await response.write(body[offset : offset + step])
                hit.sent += len(body[offset : offset + step])
                if self.rate:
                    await asyncio.sleep(step / self.rate)
            await response.write_eof()
            return response
        finally:
            hit.end = time.time()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_directory(directory: Path) -> Iterator[str]:
    """A plain HTTP file server on 127.0.0.1 in a thread (for tests that block, like the CLI)."""
    handler = partial(_Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
