"""The per-series metadata loader: one task queue, ``metadata_concurrency`` workers.

A series is queued when its source load completes (the ``series_loading_update`` event the
sources publish), when a refresh finds new episodes (``episodes_added``: their plots and
thumbnail URLs), by Identify and by a reload. Each worker runs :func:`load.load_metadata`; for a new series it
scans that series' folder once the episodes are known, so episodes already on disk count at
once and get their NFO and thumbnail in the same load. A key queued twice
runs once. Loads cut short by a stop are queued again at the next start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from showkeeper.context import AppContext
from showkeeper.db.models import Episode, Series
from showkeeper.errors import ConflictError, ShowkeeperError
from showkeeper.events import Subscription
from showkeeper.library.service import library_root
from showkeeper.logging import get_logger
from showkeeper.metadata.artwork import is_valid_file, thumb_path
from showkeeper.metadata.load import (
    COMPLETED,
    FAILED,
    PENDING,
    SOURCE_BUSY,
    STEPS,
    LoadOptions,
    LoadResult,
    Shared,
    load_metadata,
)
from showkeeper.metadata.nfo import NfoError, read_nfo
from showkeeper.metadata.service import TVSHOW_NFO, episode_nfo_path

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class _Job:
    key: str
    opts: LoadOptions


class MetadataLoader:
    """Service: queue series, load their metadata in the background, report every step."""

    name = "metadata-loader"

    def __init__(self, ctx: AppContext, *, concurrency: int | None = None) -> None:
        self.ctx = ctx
        self.concurrency = concurrency or ctx.settings.metadata_concurrency
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._queued: set[str] = set()
        self._running: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._sub: Subscription | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._shared = Shared()  # the workers take turns to write

    async def start(self) -> None:
        self._sub = self.ctx.bus.subscribe(
            types={"series_loading_update", "episodes_added"}, maxsize=10000
        )
        self._tasks.append(asyncio.create_task(self._follow(self._sub), name="metadata-follow"))
        for n in range(self.concurrency):
            self._tasks.append(asyncio.create_task(self._work(), name=f"metadata-{n}"))
        for key in await _interrupted(self.ctx):
            await self.enqueue(key)

    async def stop(self) -> None:
        if self._sub is not None:
            self._sub.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def enqueue(self, key: str, *, opts: LoadOptions | None = None) -> bool:
        """Queue a series (False when it is queued already); publishes ``pending``.

        Raises:
            ConflictError: the series is being read from its source right now.
        """
        if key in self._queued:
            return False
        self._queued.add(key)
        self._idle.clear()
        try:
            async with self.ctx.db.write() as s:
                row = await s.scalar(select(Series).where(Series.key == key))
                if row is not None and row.loading_status in SOURCE_BUSY:
                    raise ConflictError(
                        f"series {key!r} is loading from its source; its metadata loads after"
                    )
                if row is not None:
                    row.metadata_status = PENDING
                folder = row.folder if row is not None else None
        except ConflictError:
            self._queued.discard(key)
            if not self._queued and not self._running:
                self._idle.set()
            raise
        self.ctx.bus.publish(
            "series_loading_update",
            key=key,
            folder=folder,
            status=PENDING,
            progress=dict.fromkeys(("episodes", "nfo", "logo", "images"), False),
            message="waiting to load metadata",
            phase="metadata",
        )
        await self._queue.put(_Job(key, opts or LoadOptions()))
        return True

    async def wait_idle(self) -> None:
        """Until no event waits to be read and nothing is queued or running (tests, bench)."""
        while True:
            await asyncio.sleep(0.01)  # let the follower read what was just published
            if self._sub is not None and self._sub.qsize():
                continue
            await self._idle.wait()
            if (self._sub is None or not self._sub.qsize()) and self._idle.is_set():
                return

    async def _follow(self, sub: Subscription) -> None:
        async for event in sub:
            data = event.data
            if event.type == "episodes_added":
                # a refresh found new episodes: their plots and thumbnails come with a load
                if event.origin is None and isinstance(data.get("key"), str):
                    await self._queue_quietly(data["key"], LoadOptions())
                continue
            # the source's load finished (not one of our own events, not another process's)
            if (
                event.origin is None
                and data.get("status") == COMPLETED
                and data.get("phase") != "metadata"
                and isinstance(data.get("key"), str)
            ):
                await self._queue_quietly(data["key"], LoadOptions(scan=True))

    async def _queue_quietly(self, key: str, opts: LoadOptions) -> None:
        try:
            await self.enqueue(key, opts=opts)
        except ShowkeeperError as exc:  # loading again from its source meanwhile
            log.info("metadata not queued", key=key, error=str(exc))

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            self._queued.discard(job.key)
            self._running.add(job.key)
            try:
                await self._run(job)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("metadata job failed", key=job.key)
            finally:
                self._running.discard(job.key)
                self._queue.task_done()
                if not self._queued and not self._running:
                    self._idle.set()

    async def _run(self, job: _Job) -> None:
        try:
            root = library_root(self.ctx.settings)
        except ShowkeeperError as exc:
            log.warning("metadata not loaded: no library", key=job.key, error=str(exc))
            await _set_status(self.ctx, job.key, None)
            return
        try:
            result = await load_metadata(self.ctx, job.key, root, job.opts, shared=self._shared)
        except ShowkeeperError as exc:  # deleted meanwhile
            log.info("metadata not loaded", key=job.key, error=str(exc))
            return
        log.info("metadata loaded", **result.as_dict())


async def _set_status(ctx: AppContext, key: str, status: str | None) -> None:
    async with ctx.db.write() as s:
        await s.execute(update(Series).where(Series.key == key).values(metadata_status=status))


async def _interrupted(ctx: AppContext) -> list[str]:
    """Series a stopped process left queued or in a metadata step."""
    async with ctx.db.session() as s:
        rows = await s.scalars(
            select(Series.key).where(Series.metadata_status.in_((PENDING, *STEPS)))
        )
        return list(rows.all())


def _retryable(errors: dict[str, Any] | None) -> bool:
    """A recorded step error (TMDB down, the source unreachable...) is tried again; "no
    confident TMDB match" is not an error to retry (the user picks with Identify)."""
    return any(
        not (step == "tmdb" and str(error).startswith("no confident TMDB match"))
        for step, error in (errors or {}).items()
    )


def _needs_repair(
    root: Path, series: Series, files: Sequence[tuple[str, bool]], max_bytes: int
) -> bool:
    """True when a flag is off, tvshow.nfo or an episode NFO is missing or broken, an artwork
    file we wrote is missing or broken, or a downloaded episode with a thumbnail URL has no
    valid thumb (``files``: (file path, has a thumbnail URL))."""
    if series.metadata_status == FAILED:
        return True
    if not (series.episodes_loaded and series.has_nfo and series.logo_loaded):
        return True
    if not series.images_loaded or _retryable(series.metadata_errors):
        return True
    folder = root / series.folder
    try:
        read_nfo(folder / TVSHOW_NFO)
        for rel, _ in files:
            read_nfo(root / episode_nfo_path(rel))
    except (NfoError, OSError):
        return True
    if any(
        thumb and not is_valid_file(root / thumb_path(rel), max_bytes=max_bytes)
        for rel, thumb in files
    ):
        return True
    return any(
        not is_valid_file(folder / name, max_bytes=max_bytes) for name in (series.artwork or {})
    )


async def series_needing_repair(ctx: AppContext, keys: Sequence[str] | None = None) -> list[str]:
    """Loaded series whose metadata files are missing or broken on disk."""
    root = library_root(ctx.settings)
    stmt = select(Series).where(Series.loading_status == COMPLETED)  # the source is loaded
    if keys is not None:
        stmt = stmt.where(Series.key.in_(list(keys)))
    async with ctx.db.session() as s:
        all_series = list((await s.scalars(stmt)).all())
        rows = await s.execute(
            select(Episode.series_id, Episode.file_path, Episode.image_url).where(
                Episode.is_downloaded.is_(True), Episode.file_path.is_not(None)
            )
        )
        files: dict[int, list[tuple[str, bool]]] = {}
        for sid, path, image in rows.all():
            if not str(path).lower().endswith(".nfo"):
                files.setdefault(sid, []).append((str(path), bool(image)))
    max_bytes = ctx.settings.artwork_max_mb * 1024 * 1024

    def check() -> list[str]:
        return [x.key for x in all_series if _needs_repair(root, x, files.get(x.id, []), max_bytes)]

    return await asyncio.to_thread(check)


async def repair_metadata(
    ctx: AppContext,
    *,
    keys: Sequence[str] | None = None,
    opts: LoadOptions | None = None,
    force: bool = False,
    on_done: Any = None,
) -> list[LoadResult]:
    """Load again what is missing or broken (``force``: every series given), a few at once.

    Used by the scheduled rescan, ``POST /api/nfo/repair`` and ``showkeeper nfo``. ``on_done``
    (optional) is called with each result as it ends.
    """
    root = library_root(ctx.settings)
    if force:
        async with ctx.db.session() as s:
            stmt = select(Series.key)
            if keys is not None:
                stmt = stmt.where(Series.key.in_(list(keys)))
            todo = list((await s.scalars(stmt)).all())
    else:
        todo = await series_needing_repair(ctx, keys)
    limit = asyncio.Semaphore(ctx.settings.metadata_concurrency)
    shared = Shared()
    results: list[LoadResult] = []

    async def one(key: str) -> None:
        async with limit:
            try:
                result = await load_metadata(ctx, key, root, opts, shared=shared)
            except ShowkeeperError as exc:
                log.info("metadata not repaired", key=key, error=str(exc))
                return
        results.append(result)
        if on_done is not None:
            on_done(result)

    await asyncio.gather(*(one(k) for k in todo))
    return results
