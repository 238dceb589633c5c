"""The scheduler's jobs: the agreed entry points of library, sources and downloads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from showkeeper.context import AppContext
from showkeeper.downloads.service import enqueue_missing
from showkeeper.library.retention import run_retention
from showkeeper.library.service import run_scan
from showkeeper.logging import get_logger
from showkeeper.metadata.loader import repair_metadata
from showkeeper.sources.service import refresh_all

Job = Callable[[AppContext], Awaitable[Any]]


log = get_logger(__name__)


async def rescan(ctx: AppContext) -> Any:
    """The daily job: scan the library, apply the retention rules, then re-create missing
    or broken NFOs and artwork."""
    result = await run_scan(ctx)
    await run_retention(ctx.db, ctx.settings.library_dir)
    repaired = await repair_metadata(ctx)
    if repaired:
        log.info("metadata repaired after the rescan", series=len(repaired))
    return result


async def refresh(ctx: AppContext) -> Any:
    return await refresh_all(ctx)


async def auto_download(ctx: AppContext) -> Any:
    return await enqueue_missing(ctx)


@dataclass(frozen=True, slots=True)
class Jobs:
    """What each scheduled job runs; tests pass their own callables."""

    rescan: Job = rescan
    refresh: Job = refresh
    auto_download: Job = auto_download

    def get(self, name: str) -> Job:
        job: Job = getattr(self, name)
        return job
