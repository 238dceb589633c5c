"""Library scans and the missing-episodes query: what the CLI, the API and the scheduler call.

A scan lists the library root, then reads the series folders in batches in a worker thread
(scanner.py) and reconciles each batch in one short write transaction (sync.py). Progress is
published as ``scan_progress`` events, the end as ``scan_complete`` or ``scan_failed``. One scan
runs at a time (lock.py); a second one is refused with 409.
"""

from __future__ import annotations

import asyncio
import os
import stat
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, select

from showkeeper.config import Settings
from showkeeper.context import AppContext
from showkeeper.db import Database
from showkeeper.db.models import LibraryIssue
from showkeeper.errors import ConflictError, NotFoundError, ShowkeeperError
from showkeeper.library.lock import ScanLease
from showkeeper.library.readers import FolderReader, wants_process
from showkeeper.library.results import ScanResult
from showkeeper.library.scanner import FolderPlan, FolderScan, RootListing, list_root
from showkeeper.library.state import (
    UNMAPPED,
    FolderRecord,
    SeriesRef,
    linked_counts,
    list_issues,
    load_records,
    load_root_issues,
    load_series_refs,
    series_by_key,
)
from showkeeper.library.sync import Reconciler
from showkeeper.logging import get_logger

log = get_logger(__name__)

BATCH_SERIES: Final = 128  # series folders per worker-thread call and write transaction


class LibraryUnavailableError(ConflictError):
    """The library folder is not set, missing, unreadable, or suspiciously empty."""


def library_root(settings: Settings) -> Path:
    """The library folder, checked to be a readable directory.

    Raises:
        LibraryUnavailableError: not set, missing or unreadable.
    """
    root = settings.library_dir
    if root is None:
        raise LibraryUnavailableError(
            "library_dir is not set; set it in setup or with SHOWKEEPER_LIBRARY_DIR"
        )
    if not root.is_dir():
        raise LibraryUnavailableError(
            f"library folder {root} does not exist; create it or fix library_dir"
        )
    if not os.access(root, os.R_OK | os.X_OK):
        raise LibraryUnavailableError(f"library folder {root} cannot be read; fix its permissions")
    return root


async def run_scan(
    ctx: AppContext, *, series_key: str | None = None, force: bool = False
) -> ScanResult:
    """Scan the library (or one series' folder) and reconcile it with the database.

    Args:
        series_key: rescan only this series' folder (every directory of it is read).
        force: read every folder, even those whose mtime says they are unchanged.

    Raises:
        LibraryUnavailableError: the library folder cannot be used.
        NotFoundError: ``series_key`` names no series.
        ScanRunningError: another scan is running.
    """
    scan_id, lease = await _prepare(ctx, series_key)
    return await _run_leased(ctx, lease, scan_id, series_key, force)


async def start_scan(ctx: AppContext, *, series_key: str | None = None, force: bool = False) -> str:
    """Check and lock like :func:`run_scan`, then scan in the background; returns the scan id."""
    scan_id, lease = await _prepare(ctx, series_key, check_series=True)
    ctx.spawn(_background(ctx, lease, scan_id, series_key, force), name=f"scan-{scan_id}")
    return scan_id


async def _background(
    ctx: AppContext, lease: ScanLease, scan_id: str, series_key: str | None, force: bool
) -> None:
    try:
        await _run_leased(ctx, lease, scan_id, series_key, force)
    except Exception:  # reported as scan_failed; a background task has nobody to raise to
        log.exception("library scan failed", scan_id=scan_id)


async def _prepare(
    ctx: AppContext, series_key: str | None, *, check_series: bool = False
) -> tuple[str, ScanLease]:
    library_root(ctx.settings)
    if series_key is not None and check_series:  # the scan checks again, under the lease
        async with ctx.db.session() as s:
            if await series_by_key(s, series_key) is None:
                raise NotFoundError(f"no series with key {series_key!r}")
    scan_id = uuid.uuid4().hex[:12]
    return scan_id, await ScanLease.acquire(ctx.db, scan_id, series_key=series_key)


async def _run_leased(
    ctx: AppContext, lease: ScanLease, scan_id: str, series_key: str | None, force: bool
) -> ScanResult:
    result = ScanResult(scan_id, series_key)
    try:
        await _Scan(ctx, lease, result, force).run()
    except BaseException as exc:
        ctx.bus.publish("scan_failed", scan_id=scan_id, series_key=series_key, error=_why(exc))
        try:
            await lease.release()
        except Exception:  # the original error matters more; the lease expires anyway
            log.warning("could not release the scan lock", scan_id=scan_id, exc_info=True)
        raise
    summary = result.as_dict()
    await lease.release(summary)
    ctx.bus.publish("scan_complete", **summary)
    log.info("library scan complete", **summary)
    return result


def _is_empty(path: str) -> bool:
    try:
        with os.scandir(path) as it:
            return next(it, None) is None
    except OSError:
        return True


def _why(exc: BaseException) -> str:
    if isinstance(exc, ShowkeeperError):
        return str(exc)
    if isinstance(exc, asyncio.CancelledError):
        return "the scan was cancelled (showkeeper is stopping)"
    return f"{type(exc).__name__}: {exc}"


class _Scan:
    """One scan's steps; ``run`` fills ``result``."""

    def __init__(self, ctx: AppContext, lease: ScanLease, result: ScanResult, force: bool) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.lease = lease
        self.result = result
        self.stats = result.stats
        self.force = force
        self.root = str(library_root(ctx.settings))
        self.started = time.perf_counter()

    async def run(self) -> None:
        if self.result.series_key is None:
            await self._full()
        else:
            await self._targeted(self.result.series_key)
        await self._count_issues()
        self.result.duration_s = time.perf_counter() - self.started

    async def _full(self) -> None:
        async with self.db.session() as s:
            series = await load_series_refs(s)
            records = await load_records(s)
            linked = await linked_counts(s)
            root_issues = await load_root_issues(s)
        listing = await self._list_root(records)
        present = {name for name, _ in listing.folders}
        rec = Reconciler(
            series, root=self.root, stats=self.stats, now=datetime.now(UTC), present=present
        )
        plans = self._plans(listing, series, records, linked)
        await self._batches(rec, plans, len(listing.folders))
        # folders gone from disk; series whose folder is not (or no longer) there
        vanished = {n: r.series_id for n, r in records.items() if n not in present}
        absent = [r.id for f, r in series.items() if f not in present and linked.get(r.id)]
        new_root = {(i.kind, i.path, i.detail) for i in listing.issues}
        if vanished or absent or new_root != root_issues:
            async with self.db.write() as s:
                await rec.forget(s, vanished, absent)
                await rec.replace_root_issues(s, listing.issues)

    async def _targeted(self, key: str) -> None:
        async with self.db.session() as s:
            ref = await series_by_key(s, key)
            if ref is None:
                raise NotFoundError(f"no series with key {key!r}")
            record = (await load_records(s, [ref.folder])).get(ref.folder)
        rec = Reconciler({ref.folder: ref}, root=self.root, stats=self.stats, now=datetime.now(UTC))
        path = os.path.join(self.root, ref.folder)
        try:
            st = os.stat(path)
        except OSError:
            st = None
        if st is None or not stat.S_ISDIR(st.st_mode):
            if _is_empty(self.root):
                raise LibraryUnavailableError(
                    f"library folder {self.root} is empty; is the drive mounted? Nothing was changed"
                )
            self.result.folder_missing = True
            async with self.db.write() as s:
                await rec.forget(s, {ref.folder: ref.id}, [ref.id])
            return
        recorded = record.dirs if record else {}
        await self._batches(rec, [FolderPlan(ref.folder, st.st_mtime_ns, recorded, force=True)], 1)

    async def _list_root(self, records: dict[str, FolderRecord]) -> RootListing:
        try:
            listing = await asyncio.to_thread(list_root, self.root)
        except OSError as exc:
            raise LibraryUnavailableError(
                f"library folder {self.root} cannot be read ({exc.strerror or exc})"
            ) from None
        if not listing.folders and records:
            raise LibraryUnavailableError(
                f"library folder {self.root} is empty, but {len(records)} series folders were "
                "found there before; is the drive mounted? Nothing was changed"
            )
        return listing

    def _plans(
        self,
        listing: RootListing,
        series: dict[str, SeriesRef],
        records: dict[str, FolderRecord],
        linked: dict[int, int],
    ) -> list[FolderPlan]:
        plans: list[FolderPlan] = []
        for name, mtime in listing.folders:
            ref = series.get(name)
            record = records.get(name)
            sid = ref.id if ref else None
            if record is None or record.series_id != sid:
                plans.append(
                    FolderPlan(name, mtime, record.dirs if record else {}, sid is None, True)
                )
            elif ref is None:
                if record.dirs.get(name) == mtime and not self.force:
                    self.stats.series_total += 1  # still unmapped, unchanged: not even listed
                    self.stats.series_unchanged += 1
                    self.stats.folders_skipped += 1
                else:
                    plans.append(FolderPlan(name, mtime, record.dirs, identify=True, force=True))
            else:
                # someone changed downloaded flags behind our back: read the whole series again
                drift = linked.get(sid or 0, 0) != (record.linked or 0)
                plans.append(FolderPlan(name, mtime, record.dirs, force=self.force or drift))
        return plans

    async def _batches(self, rec: Reconciler, plans: Sequence[FolderPlan], total: int) -> None:
        done = total - len(plans)
        batches = [plans[i : i + BATCH_SERIES] for i in range(0, len(plans), BATCH_SERIES)]
        if not batches:
            return
        async with FolderReader(self.root, process=wants_process(plans)) as reader:
            # batch n+1 is read while batch n is written (two batches in memory at most)
            reading = asyncio.ensure_future(reader.read(batches[0]))
            try:
                for n, batch in enumerate(batches):
                    scans = await reading
                    if n + 1 < len(batches):
                        reading = asyncio.ensure_future(reader.read(batches[n + 1]))
                    await self._apply(rec, scans)
                    done += len(batch)
                    await self._progress(done, total)
            finally:
                if not reading.done():
                    reading.cancel()
                    await asyncio.gather(reading, return_exceptions=True)

    async def _apply(self, rec: Reconciler, scans: list[FolderScan]) -> None:
        changed = [scan for scan in scans if scan.changed]
        self._tally(scans)
        if changed:
            async with self.db.write() as s:
                await rec.apply(s, changed)

    async def _progress(self, done: int, total: int) -> None:
        await self.lease.renew()
        self.ctx.bus.publish(
            "scan_progress",
            scan_id=self.result.scan_id,
            series_key=self.result.series_key,
            done=done,
            total=total,
            files=self.stats.files_seen,
        )

    def _tally(self, scans: Sequence[FolderScan]) -> None:
        stats = self.stats
        for scan in scans:
            stats.series_total += 1
            stats.folders_read += len(scan.read)
            stats.folders_skipped += len(scan.dirs) - len(scan.read) - len(scan.unreadable)
            stats.files_seen += len(scan.files)
            if scan.changed:
                stats.series_read += 1
            else:
                stats.series_unchanged += 1

    async def _count_issues(self) -> None:
        async with self.db.session() as s:
            rows = await s.execute(
                select(LibraryIssue.kind, func.count()).group_by(LibraryIssue.kind)
            )
            counts: dict[str, int] = {kind: n for kind, n in rows}
        self.stats.unmapped = counts.get(UNMAPPED, 0)
        self.stats.unparsed = counts.get("unparsed", 0) + counts.get("unmatched", 0)
        self.stats.issues = sum(counts.values())


async def library_issues(
    db: Database,
    root: Path | None,
    *,
    unmapped: bool,
    series_folder: str | None = None,
    limit: int = 500,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """Unmapped series folders (``unmapped=True``) or file-level issues, as plain dicts."""
    async with db.session() as s:
        total, rows = await list_issues(
            s, unmapped=unmapped, series_folder=series_folder, limit=limit, offset=offset
        )
    items = []
    for row in rows:
        item: dict[str, Any] = {
            "kind": row.kind,
            "path": str(root / row.path) if root else row.path,
            "relative_path": row.path,
            "series_folder": row.series_folder or None,
            "detail": row.detail,
            "found_at": row.found_at.isoformat(),
        }
        if unmapped:
            item["name"] = row.series_folder
        items.append(item)
    return total, items
