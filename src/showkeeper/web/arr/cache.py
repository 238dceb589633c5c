"""Encoded answers of the v3 routes that clients poll over the whole library (the series list,
missing pages), kept until the library changes; a service of the server.

Dashboards and mobile apps ask for every series with statistics every few seconds; reading
100,000 episodes for each ask would make the answer slow for everyone. An answer is kept
while nothing changed:

- every event that changes series, episodes or the queue (downloads, queue changes, scans,
  refreshes, series loading; other processes' too, through the PostgreSQL bridge) and every
  write through /api/v3 drops them all;
- on SQLite, any commit by anyone changes the database files' size or mtime (the WAL is
  appended to), which a stat of them per ask sees, so an edit through another route or
  another tool drops them too;
- none is kept past the day it was made (air dates decide "missing") or longer than
  ``ttl_s`` (artwork files appearing; on PostgreSQL, writes that sent no event).

Concurrent asks for the same answer share one computation. Large answers are also kept
gzip-compressed (the series list of a big library: 3.4 MB of JSON, 100 KB compressed) and
sent so to clients that accept it.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from starlette.responses import Response

from showkeeper.events import BusConsumer, EventBus, Subscription

CHANGES = (
    "download_complete",
    "download_failed",
    "queue_status",
    "scan_complete",
    "series_loading_update",
    "episodes_added",
)
"""Event types after which cached answers may be wrong."""


GZIP_MIN_BYTES = 32 * 1024
GZIP_LEVEL = 3  # of 1-9: most of the gain for a third of level 6's time


@dataclass(frozen=True, slots=True)
class Encoded:
    """An answer's JSON, and its gzip form when it is large."""

    raw: bytes
    gzip: bytes | None = None


async def encode(raw: bytes) -> Encoded:
    if len(raw) < GZIP_MIN_BYTES:
        return Encoded(raw)
    return Encoded(raw, await asyncio.to_thread(gzip.compress, raw, GZIP_LEVEL, mtime=0))


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (``gzip;q=0`` refuses it)."""
    for part in accept_encoding.lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() not in ("gzip", "*"):
            continue
        key, _, value = params.replace(" ", "").partition("=")
        if key != "q":
            return True
        try:
            return float(value) > 0
        except ValueError:
            return False
    return False


def respond(encoded: Encoded, accept_encoding: str) -> Response:
    """The JSON answer, gzip-compressed when it is large and the client accepts that."""
    if encoded.gzip is None:
        return Response(encoded.raw, media_type="application/json")
    vary = {"Vary": "Accept-Encoding"}
    if accepts_gzip(accept_encoding):
        return Response(
            encoded.gzip,
            media_type="application/json",
            headers={**vary, "Content-Encoding": "gzip"},
        )
    return Response(encoded.raw, media_type="application/json", headers=vary)


class ResponseCache(BusConsumer):
    name = "sonarr api cache"

    def __init__(
        self,
        bus: EventBus,
        *,
        ttl_s: float = 2.0,
        max_entries: int = 64,
        files: Sequence[Path] = (),
    ) -> None:
        """``files``: the SQLite database and its WAL, whose stat tells of any commit."""
        super().__init__(bus, types=CHANGES, maxsize=100)
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.files = list(files)
        self.generation = 0
        self.computed = 0  # how many answers were computed (tests read it)
        self._entries: OrderedDict[Hashable, tuple[Hashable, float, Encoded]] = OrderedDict()
        self._inflight: dict[Hashable, asyncio.Future[Encoded]] = {}

    async def consume(self, sub: Subscription) -> None:
        async for _event in sub:
            self.invalidate()

    def invalidate(self) -> None:
        """Forget every answer (the library changed)."""
        self.generation += 1
        self._entries.clear()

    def _state(self) -> Hashable:
        """What an answer was made from: changes drop it."""
        stamps = []
        for path in self.files:
            try:
                st = os.stat(path)
            except OSError:
                stamps.append((0, 0))
            else:
                stamps.append((st.st_size, st.st_mtime_ns))
        return (self.generation, datetime.now(UTC).date(), tuple(stamps))

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[bytes]]) -> Encoded:
        """The kept answer for ``key``, or ``compute()``'s (shared by concurrent callers)."""
        state = self._state()
        hit = self._entries.get(key)
        if hit is not None and hit[0] == state and time.monotonic() - hit[1] < self.ttl_s:
            self._entries.move_to_end(key)
            return hit[2]
        running = self._inflight.get(key)
        if running is not None:
            return await asyncio.shield(running)
        generation = self.generation
        future: asyncio.Future[Encoded] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieve)
        self._inflight[key] = future
        try:
            value = await encode(await compute())
        except BaseException as exc:
            future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("stopped"))
            raise
        finally:
            self._inflight.pop(key, None)
        self.computed += 1
        future.set_result(value)
        if generation == self.generation:  # else it may already be out of date
            # the state from before the computation: a commit during it drops the answer
            self._entries[key] = (state, time.monotonic(), value)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value


def for_database(bus: EventBus, database_url: str) -> ResponseCache:
    """The cache for this database: on SQLite it watches the files (exact, so answers may be
    kept for a minute), elsewhere only events and writes through /api/v3 (two seconds)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        db = Path(str(url.database))
        return ResponseCache(bus, ttl_s=60.0, files=[db, db.with_name(db.name + "-wal")])
    return ResponseCache(bus, ttl_s=2.0)


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a failure as seen when no other caller waited for it."""
    if not future.cancelled():
        future.exception()


async def cached(
    cache: ResponseCache | None,
    key: Hashable,
    compute: Callable[[], Awaitable[bytes]],
    *,
    accept_encoding: str = "",
) -> Response:
    """The answer through the cache when the server runs one, else computed."""
    if cache is None:
        return Response(await compute(), media_type="application/json")
    return respond(await cache.get(key, compute), accept_encoding)


def invalidate(cache: ResponseCache | None) -> None:
    if cache is not None:
        cache.invalidate()
