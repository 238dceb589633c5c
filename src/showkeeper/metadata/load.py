"""Load one series' metadata: the steps the background loader (loader.py) runs.

``pending -> loading_episodes -> loading_nfo -> loading_logo -> loading_images ->
completed | failed``, stored in ``Series.metadata_status`` (``loading_status`` stays the
source's, so a refresh is never refused while artwork loads) and each published as
``series_loading_update`` (``key``, ``folder``,
``status``, ``progress`` {episodes, nfo, logo, images}, ``message``, ``phase="metadata"``).
A step that fails records its error in ``Series.metadata_errors`` and the next step still
runs: a missing poster never fails a series. Only an unexpected error fails it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import select, update

from showkeeper.context import AppContext
from showkeeper.db.models import Episode, Series
from showkeeper.domain.paths import UnsafePathError, ensure_inside
from showkeeper.errors import NotFoundError, ShowkeeperError
from showkeeper.library.lock import ScanRunningError
from showkeeper.library.service import run_scan
from showkeeper.logging import get_logger
from showkeeper.metadata.artwork import FILE_NAMES, season_poster_name, thumb_path
from showkeeper.metadata.gather import Gathered, episode_values, gather
from showkeeper.metadata.images import Target, apply_targets
from showkeeper.metadata.nfo import NfoError, read_nfo
from showkeeper.metadata.service import TVSHOW_NFO, write_series_nfos
from showkeeper.metadata.status import record_tmdb
from showkeeper.sources.fetching import make_client

log = get_logger(__name__)

PENDING = "pending"
LOADING_EPISODES = "loading_episodes"
LOADING_NFO = "loading_nfo"
LOADING_LOGO = "loading_logo"
LOADING_IMAGES = "loading_images"
COMPLETED = "completed"
FAILED = "failed"
STEPS = (LOADING_EPISODES, LOADING_NFO, LOADING_LOGO, LOADING_IMAGES)
# the source's own loading states (sources/service.py): a reload waits for those to end
SOURCE_BUSY = ("pending", "probing", "loading_episodes", "saving")
SCAN_RETRIES = 60  # half-second waits for another scan to end
NFO_MESSAGE = "writing tvshow.nfo and episode NFOs"


@dataclass
class Shared:
    """What loads running together share: their turn to write (SQLite would make them spin on
    its lock), and TMDB's outcome as last stored (read once, written when it changes)."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    tmdb: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class LoadOptions:
    replace_artwork: bool = False  # also replace artwork another tool wrote
    refresh: bool = False  # a new match: rewrite our own artwork too
    scan: bool = False  # a new series: scan its folder once its episodes are known


@dataclass
class LoadResult:
    key: str
    status: str = COMPLETED
    progress: dict[str, bool] = field(
        default_factory=lambda: dict.fromkeys(("episodes", "nfo", "logo", "images"), False)
    )
    errors: dict[str, str] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)
    tmdb_requests: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "status": self.status,
            "progress": dict(self.progress),
            "errors": dict(self.errors),
            "written": list(self.written),
        }


class _Run:
    """One series' load: the row, the library root, the events."""

    def __init__(
        self,
        ctx: AppContext,
        series: Series,
        root: Path,
        opts: LoadOptions,
        shared: Shared | None,
    ) -> None:
        self.ctx = ctx
        self.shared = shared or Shared()
        self.lock = self.shared.lock
        self.series = series
        self.root = root
        self.opts = opts
        self.result = LoadResult(series.key)
        self.max_bytes = ctx.settings.artwork_max_mb * 1024 * 1024
        self.owned: dict[str, str] = dict(series.artwork or {})
        self.known: list[Episode] | None = None  # the episodes as stored (None: read again)

    def publish(self, status: str, message: str) -> None:
        self.ctx.bus.publish(
            "series_loading_update",
            key=self.series.key,
            folder=self.series.folder,
            status=status,
            progress=dict(self.result.progress),
            message=message,
            phase="metadata",
        )

    async def set(self, status: str, message: str, *, persist: bool = True, **values: Any) -> None:
        """Publish a step; ``persist`` also stores it (the logo and images steps are only
        published: their flags are stored with the end, one write fewer each per series)."""
        if persist:
            async with self.lock, self.ctx.db.write() as s:
                await s.execute(
                    update(Series)
                    .where(Series.id == self.series.id)
                    .values(metadata_status=status, **values)
                )
        self.publish(status, message)

    def fail(self, step: str, error: str) -> None:
        self.result.errors[step] = error[:2000]
        log.warning("metadata step failed", key=self.series.key, step=step, error=error[:500])

    async def episodes(self) -> list[Episode]:
        async with self.ctx.db.session() as s:
            rows = await s.scalars(
                select(Episode)
                .where(Episode.series_id == self.series.id)
                .order_by(Episode.season, Episode.episode)
            )
            return list(rows.all())

    async def run(self) -> LoadResult:
        await self.set(
            LOADING_EPISODES,
            "reading the source's metadata and TMDB",
            loading_started_at=datetime.now(UTC),
            loading_completed_at=None,
        )
        async with make_client(self.ctx.settings, concurrency=8) as http:
            episodes = await self.episodes()
            g = await gather(self.series, {e.season for e in episodes}, self.ctx.settings, http)
            self.shared.tmdb = await record_tmdb(
                self.ctx.db,
                lock=self.lock,
                known=self.shared.tmdb,
                requests=g.tmdb_requests,
                error=g.errors.get("tmdb"),
                auth=g.tmdb_auth_failed,
            )
            self.result.tmdb_requests = g.tmdb_requests
            self.result.errors.update(g.errors)
            if self.opts.scan:
                await self._store(g, episodes, status=None)
                await self._scan()
                self.result.progress["episodes"] = True
                await self.set(LOADING_NFO, NFO_MESSAGE, episodes_loaded=True)
            else:
                self.result.progress["episodes"] = True
                await self._store(g, episodes, status=LOADING_NFO)
                self.publish(LOADING_NFO, NFO_MESSAGE)
            self.result.progress["episodes"] = True
            await self._nfo()
            await self.set(LOADING_LOGO, "loading the logo", persist=False)
            await self._logo(http, g)
            await self.set(
                LOADING_IMAGES,
                "loading poster, fanart, season posters and thumbnails",
                persist=False,
            )
            await self._images(http, g)
        await asyncio.to_thread(self._prune)
        done = all(self.result.progress.values())
        message = "metadata complete" if done and not self.result.errors else "metadata loaded"
        if self.result.errors:
            message += f" ({len(self.result.errors)} problems: {', '.join(self.result.errors)})"
        await self.set(
            COMPLETED,
            message,
            has_nfo=self.result.progress["nfo"],
            logo_loaded=self.result.progress["logo"],
            images_loaded=self.result.progress["images"],
            loading_completed_at=datetime.now(UTC),
            metadata_errors=self.result.errors or None,
            artwork=self.owned or None,
        )
        return self.result

    async def _store(self, g: Gathered, episodes: list[Episode], *, status: str | None) -> None:
        """What was gathered, in one write; with ``status``, the next step is stored too."""
        values: dict[str, Any] = {}
        if status is not None:
            values.update(metadata_status=status, episodes_loaded=True)
        s = self.series
        if g.tmdb_id != s.tmdb_id:
            values["tmdb_id"] = g.tmdb_id
        if g.tmdb_match and g.tmdb_match != s.tmdb_match:
            values["tmdb_match"] = g.tmdb_match
        if g.overview and (g.show is not None or not s.overview):
            values["overview"] = g.overview[:10000]
        if g.year and not s.year:
            values["year"] = g.year
        if g.posters and not s.image_url:
            values["image_url"] = g.posters[0]
        extras = {"genres": g.genres, "studio": g.studio}
        updates = [(e, v) for e in episodes if (v := episode_values(g, e))]
        async with self.lock, self.ctx.db.write() as session:
            # merged with what is stored now: a refresh may have saved new ETags meanwhile
            state = await session.scalar(select(Series.source_state).where(Series.id == s.id))
            if (state or {}).get("metadata") != extras:
                values["source_state"] = {**(state or {}), "metadata": extras}
            if values:
                await session.execute(update(Series).where(Series.id == s.id).values(**values))
            if g.tmdb_id is None and any(e.tmdb_id for e in episodes):  # the match was removed
                await session.execute(
                    update(Episode).where(Episode.series_id == s.id).values(tmdb_id=None)
                )
            for ep, row in updates:  # few per load; most loads change nothing here
                await session.execute(update(Episode).where(Episode.id == ep.id).values(**row))
            fresh = await session.scalar(select(Series).where(Series.id == s.id))
        if fresh is not None:
            self.series = fresh
        for ep, row in updates:
            for name, value in row.items():
                setattr(ep, name, value)
        if g.tmdb_id is None:
            for ep in episodes:
                ep.tmdb_id = None
        self.known = episodes  # as stored now (a scan after this reads them again)

    async def _scan(self) -> None:
        """Scan the new series' folder, so episodes already on disk count (and get their NFO
        and thumbnail in the next steps). Another scan holding the lock is waited for."""
        self.known = None  # the scan links files: read the episodes again afterwards
        try:
            await asyncio.to_thread(self._folder)
        except (UnsafePathError, OSError) as exc:
            self.fail("scan", str(exc))
            return
        for _ in range(SCAN_RETRIES):
            try:
                await run_scan(self.ctx, series_key=self.series.key)
                return
            except ScanRunningError:
                await asyncio.sleep(0.5)
            except ShowkeeperError as exc:
                self.fail("scan", str(exc))
                return
        self.fail("scan", "another library scan kept running; the next rescan finds the files")

    def _prune(self) -> None:
        """Forget files we wrote that are gone (a rename moved a thumb, a user deleted an
        episode): repair would otherwise look for them every day. What this load wanted and
        could not write stays recorded by its error instead."""
        folder = self.root / self.series.folder
        self.owned = {k: v for k, v in self.owned.items() if (folder / k).is_file()}

    def _folder(self) -> Path:
        path = ensure_inside(self.root, self.series.folder)
        path.mkdir(parents=True, exist_ok=True)
        return path

    async def _nfo(self) -> None:
        try:
            folder = await asyncio.to_thread(self._folder)
            result = await write_series_nfos(
                self.ctx.db, self.root, self.series.key, overwrite=False
            )
            if result.errors:
                self.fail("nfo", "; ".join(result.messages[:3]))
            await asyncio.to_thread(read_nfo, folder / TVSHOW_NFO)
            self.result.progress["nfo"] = not result.errors
        except (NfoError, UnsafePathError, OSError) as exc:
            self.fail("nfo", str(exc))

    def _target(self, name: str, urls: list[str]) -> Target:
        rel = str(PurePosixPath(self.series.folder) / name)
        return Target(rel=rel, key=name, urls=tuple(urls))

    async def _apply(self, http: Any, targets: list[Target], step: str) -> bool:
        run = await apply_targets(
            http,
            self.root,
            targets,
            self.owned,
            max_bytes=self.max_bytes,
            replace=self.opts.replace_artwork,
            refresh=self.opts.refresh,
        )
        self.result.written += run.written
        if run.errors:
            self.fail(step, "; ".join(run.errors[:5]))
        return not run.errors

    async def _logo(self, http: Any, g: Gathered) -> None:
        try:
            ok = await self._apply(http, [self._target(FILE_NAMES["logo"], g.logos)], "logo")
        except UnsafePathError as exc:
            self.fail("logo", str(exc))
            ok = False
        self.result.progress["logo"] = ok

    async def _images(self, http: Any, g: Gathered) -> None:
        targets = [
            self._target(FILE_NAMES["poster"], g.posters),
            self._target(FILE_NAMES["fanart"], g.fanart),
        ]
        if g.banners:
            targets.append(self._target(FILE_NAMES["banner"], g.banners))
        for season, url in sorted(g.season_posters.items()):
            targets.append(self._target(season_poster_name(season), [url]))
        folder = PurePosixPath(self.series.folder)
        for ep in self.known if self.known is not None else await self.episodes():
            if not ep.is_downloaded or not ep.file_path or not ep.image_url:
                continue
            rel = thumb_path(ep.file_path)
            try:
                key = str(PurePosixPath(rel).relative_to(folder))
            except ValueError:
                continue  # a file outside the series folder is not ours to decorate
            targets.append(Target(rel=rel, key=key, urls=(ep.image_url,)))
        self.result.progress["images"] = await self._apply(http, targets, "images")


async def load_metadata(
    ctx: AppContext,
    key: str,
    root: Path,
    opts: LoadOptions | None = None,
    *,
    shared: Shared | None = None,
) -> LoadResult:
    """Run every metadata step for one series (the loader service calls this in its queue).

    Raises:
        NotFoundError: no such series.
    """
    async with ctx.db.session() as s:
        series = await s.scalar(select(Series).where(Series.key == key))
    if series is None:
        raise NotFoundError(f"no series with key {key[:200]!r}")
    run = _Run(ctx, series, root, opts or LoadOptions(), shared)
    try:
        return await run.run()
    except asyncio.CancelledError:
        raise  # the step stays in loading_status: the loader queues it again at the next start
    except Exception as exc:
        log.exception("loading metadata failed", key=key)
        run.result.status = FAILED
        run.fail("loader", f"{type(exc).__name__}: {exc}")
        await run.set(
            FAILED,
            f"loading metadata failed ({type(exc).__name__}: {exc})",
            metadata_errors=run.result.errors,
            loading_completed_at=datetime.now(UTC),
        )
        return run.result
