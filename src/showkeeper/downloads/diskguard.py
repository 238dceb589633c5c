"""The disk space guard: no download starts that would leave less than the reserve free.

Before a transfer starts, the worker asks :func:`check_space` whether the library's file
system has room for the expected size (the best candidate's, less what a ``.part`` already
holds) plus ``disk_reserve_gib``. When it has not, the queue is paused with the reason in
its state (``paused_by: disk_guard``; ``/health`` shows it) and the item goes back to the
queue. :class:`DiskGuard` (beside every worker pool) resumes the queue once the free space is
back above what was needed. A pause or resume by the user replaces the guard's pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from showkeeper.context import AppContext
from showkeeper.db import Database
from showkeeper.db.models import SystemSetting
from showkeeper.downloads.control import STATE_KEY
from showkeeper.downloads.files import part_path
from showkeeper.downloads.plan import Plan
from showkeeper.logging import get_logger

log = get_logger(__name__)

GUARD = "disk_guard"
CHECK_INTERVAL_S = 2.0
GIB = 1024**3


def _size(n: float) -> str:
    for unit, scale in (("GiB", GIB), ("MiB", 1024**2), ("KiB", 1024)):
        if abs(n) >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} B"


def reserve_bytes(reserve_gib: float) -> int:
    return int(reserve_gib * GIB)


def expected_bytes(plan: Plan) -> int:
    """What the download will still write: the largest known candidate size less its .part."""
    sizes = [c.size for c in plan.candidates if c.size]
    if not sizes:
        return 0
    try:
        done = os.stat(part_path(plan.dest)).st_size
    except OSError:
        done = 0
    return max(0, max(sizes) - done)


def shortfall(folder: Path, needed: int, reserve: int) -> tuple[str, int] | None:
    """Why ``needed`` bytes do not fit beside the reserve, and the free space wanted; or None."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return None  # the download itself reports a folder it cannot use
    if free >= needed + reserve:
        return None
    reason = (
        f"not enough free space on {folder}: {_size(free)} free, a download of {_size(needed)} "
        f"needs {_size(needed + reserve)} with the reserve of {_size(reserve)}; free some space "
        "(or lower disk_reserve_gib) and the queue resumes by itself"
    )
    return reason, needed + reserve


async def _state(db: Database) -> dict[str, Any]:
    async with db.session() as s:
        value = await s.scalar(select(SystemSetting.value).where(SystemSetting.key == STATE_KEY))
    return value if isinstance(value, dict) else {"state": "running"}


async def _write_if(db: Database, expect: dict[str, Any], value: dict[str, Any]) -> bool:
    """Replace the queue state only if it is still ``expect`` (no user change in between)."""
    async with db.write() as s:
        row = await s.get(SystemSetting, STATE_KEY)
        current = row.value if row is not None and isinstance(row.value, dict) else None
        if (current or {"state": "running"}) != expect:
            return False
        if row is None:
            s.add(SystemSetting(key=STATE_KEY, value=value))
        else:
            row.value = value
    return True


async def guard_pause(db: Database) -> dict[str, Any] | None:
    """The queue state when the guard paused it (reason, free space wanted), else None."""
    value = await _state(db)
    return value if value.get("state") == "paused" and value.get("paused_by") == GUARD else None


async def check_space(ctx: AppContext, plan: Plan) -> str | None:
    """None when the download may start; else the reason, and the queue is paused for it."""
    reserve = reserve_bytes(ctx.settings.disk_reserve_gib)
    short = await asyncio.to_thread(shortfall, plan.library, expected_bytes(plan), reserve)
    if short is None:
        return None
    reason, wanted = short
    current = await _state(ctx.db)
    if current.get("state", "running") == "running":
        paused = {
            "state": "paused",
            "changed_at": datetime.now(UTC).isoformat(),
            "paused_by": GUARD,
            "reason": reason,
            "wanted_free_bytes": wanted,
            "path": str(plan.library),
        }
        if await _write_if(ctx.db, current, paused):
            log.warning("queue paused: disk space", reason=reason)
            ctx.bus.publish("queue_status", action="paused", reason=reason, paused_by=GUARD)
    return reason


async def resume_if_space(ctx: AppContext) -> bool:
    """Resume a queue the guard paused once the free space wanted is there again."""
    value = await guard_pause(ctx.db)
    if value is None:
        return False
    folder = Path(str(value.get("path") or ctx.settings.library_dir or "."))
    wanted = int(value.get("wanted_free_bytes") or 0)
    try:
        free = (await asyncio.to_thread(shutil.disk_usage, folder)).free
    except OSError:
        return False
    if free < wanted:
        return False
    running = {"state": "running", "changed_at": datetime.now(UTC).isoformat()}
    if not await _write_if(ctx.db, value, running):
        return False
    log.info("queue resumed: disk space is back", free=free)
    ctx.bus.publish("queue_status", action="resumed", paused_by=GUARD)
    return True


class DiskGuard:
    """Resumes the queue when the space the guard paused it for is back (a Service)."""

    name = "disk-guard"

    def __init__(self, ctx: AppContext, *, interval_s: float = CHECK_INTERVAL_S) -> None:
        self.ctx = ctx
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await resume_if_space(self.ctx)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("disk guard check failed; retrying")
