"""Health checks: database, ffmpeg, library folder, free disk."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from showkeeper.config import Settings
from showkeeper.db import Database, DatabaseError
from showkeeper.downloads.diskguard import guard_pause
from showkeeper.downloads.liveness import waiting_workers
from showkeeper.ffmpeg import find_ffmpeg

Status = Literal["ok", "warning", "error"]
MIN_FREE_BYTES = 1024**3


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    message: str
    critical: bool = False
    details: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "message": self.message}
        if self.details:
            out.update(self.details)
        return out


async def check_database(db: Database) -> Check:
    start = time.perf_counter()
    try:
        await db.check()
    except DatabaseError as exc:
        return Check("database", "error", str(exc), critical=True)
    ms = round((time.perf_counter() - start) * 1000, 2)
    return Check(
        "database", "ok", "reachable", details={"latency_ms": ms, "backend": db.engine.dialect.name}
    )


def check_ffmpeg() -> Check:
    info = find_ffmpeg()
    if info.path is None:
        return Check("ffmpeg", "error", "no ffmpeg found; install ffmpeg or imageio-ffmpeg")
    return Check(
        "ffmpeg", "ok", f"using {info.path}", details={"path": info.path, "origin": info.origin}
    )


def check_library(library_dir: Path | None) -> Check:
    if library_dir is None:
        return Check(
            "library",
            "warning",
            "library_dir is not set; set it in setup or SHOWKEEPER_LIBRARY_DIR",
        )
    if not library_dir.is_dir():
        return Check(
            "library", "error", f"library folder {library_dir} does not exist", critical=True
        )
    if not os.access(library_dir, os.W_OK | os.X_OK):
        return Check(
            "library", "error", f"library folder {library_dir} is not writable", critical=True
        )
    return Check("library", "ok", f"{library_dir} is writable", details={"path": str(library_dir)})


def check_disk(path: Path) -> Check:
    try:
        usage = shutil.disk_usage(path)
    except OSError as exc:
        return Check("disk", "error", f"cannot read free space of {path}: {exc.strerror}")
    details = {"free_bytes": usage.free, "total_bytes": usage.total, "path": str(path)}
    if usage.free < MIN_FREE_BYTES:
        return Check("disk", "warning", f"less than 1 GiB free on {path}", details=details)
    return Check("disk", "ok", f"{usage.free // 1024**2} MiB free", details=details)


async def check_queue(db: Database) -> Check:
    """The download queue: a pause by the disk space guard is a warning with its reason."""
    try:
        paused = await guard_pause(db)
    except Exception:  # an unreachable database is check_database's to report
        return Check("queue", "warning", "cannot read the queue state")
    if paused is not None:
        return Check(
            "queue",
            "warning",
            str(paused.get("reason", "paused: not enough disk space")),
            details={"state": "paused", "paused_by": paused.get("paused_by")},
        )
    return Check("queue", "ok", "no pause for disk space")


async def run_checks(settings: Settings, db: Database) -> list[Check]:
    disk_path = (
        settings.library_dir
        if settings.library_dir and settings.library_dir.is_dir()
        else settings.data_dir
    )
    return [
        await check_database(db),
        check_ffmpeg(),
        check_library(settings.library_dir),
        check_disk(disk_path),
        await check_queue(db),
        await check_workers(db),
    ]


async def check_workers(db: Database) -> Check:
    """Download workers (any process) that wait instead of downloading, and why."""
    try:
        waiting = await waiting_workers(db)
    except Exception as exc:  # the database check reports the database itself
        return Check("workers", "warning", f"cannot read worker states: {exc}")
    if not waiting:
        return Check("workers", "ok", "no download worker is waiting")
    return Check(
        "workers",
        "warning",
        f"{len(waiting)} download worker(s) waiting: {waiting[0]['reason']}",
        details={"waiting": waiting},
    )


def overall(checks: list[Check]) -> Literal["healthy", "degraded", "unhealthy"]:
    if any(c.status == "error" and c.critical for c in checks):
        return "unhealthy"
    if any(c.status != "ok" for c in checks):
        return "degraded"
    return "healthy"


async def health_report(settings: Settings, db: Database) -> dict[str, Any]:
    checks = await run_checks(settings, db)
    return {
        "status": overall(checks),
        "timestamp": datetime.now(UTC).isoformat(),
        "checks": {c.name: c.as_dict() for c in checks},
    }


async def readiness(settings: Settings, db: Database) -> tuple[bool, list[str]]:
    """Ready to serve: database reachable and the library folder usable."""
    checks = await run_checks(settings, db)
    failures = [f"{c.name}: {c.message}" for c in checks if c.status == "error" and c.critical]
    if settings.library_dir is None:
        failures.append("library: library_dir is not set; finish setup at /setup")
    return not failures, failures


def _meminfo() -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                name, _, rest = line.partition(":")
                if name in ("MemTotal", "MemAvailable"):
                    out[name] = int(rest.split()[0]) * 1024
    except OSError:
        pass
    return out


def _process(started_at: float) -> dict[str, Any]:
    import resource
    import sys
    import threading

    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss = None
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            rss = int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    try:
        fds: int | None = len(os.listdir("/proc/self/fd"))
    except OSError:
        fds = None
    return {
        "pid": os.getpid(),
        "uptime_s": round(time.monotonic() - started_at, 1),
        "rss_bytes": rss,
        "max_rss_bytes": usage.ru_maxrss * 1024,
        "cpu_user_s": round(usage.ru_utime, 2),
        "cpu_system_s": round(usage.ru_stime, 2),
        "threads": threading.active_count(),
        "open_fds": fds,
        "python": sys.version.split()[0],
    }


def _filesystem(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {"path": None}
    out: dict[str, Any] = {"path": str(path), "exists": path.is_dir()}
    if out["exists"]:
        out["writable"] = os.access(path, os.W_OK | os.X_OK)
        usage = shutil.disk_usage(path)
        out.update(free_bytes=usage.free, total_bytes=usage.total)
    return out


async def _database_figures(db: Database) -> dict[str, Any]:
    from sqlalchemy import func, select

    from showkeeper.db.models import Episode, QueueItem, Series

    check = await check_database(db)
    out: dict[str, Any] = check.as_dict()
    if check.status != "ok":
        return out
    async with db.session() as s:
        out["series"] = (await s.execute(select(func.count()).select_from(Series))).scalar_one()
        out["episodes"] = (await s.execute(select(func.count()).select_from(Episode))).scalar_one()
        rows = await s.execute(select(QueueItem.status, func.count()).group_by(QueueItem.status))
        out["queue"] = {status: count for status, count in rows}
    if db.is_sqlite and db.engine.url.database:
        with contextlib.suppress(OSError):
            out["file_bytes"] = os.path.getsize(db.engine.url.database)
    return out


async def _tmdb(settings: Settings, db: Database) -> dict[str, Any]:
    from showkeeper.metadata.status import tmdb_status

    return await tmdb_status(settings, db)


async def detailed_report(settings: Settings, db: Database, *, started_at: float) -> dict[str, Any]:
    """Database, filesystem, process and system figures (for authenticated callers)."""
    import platform

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        **(await health_report(settings, db)),
        "database": await _database_figures(db),
        "filesystem": {
            "library": _filesystem(settings.library_dir),
            "data": _filesystem(settings.data_dir),
        },
        "tmdb": await _tmdb(settings, db),
        "process": _process(started_at),
        "system": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": list(load) if load else None,
            "memory": _meminfo(),
        },
    }
