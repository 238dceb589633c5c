"""The scheduler's jobs: the agreed entry points of library, sources and downloads,
imported when a job runs so the scheduler works before (or without) those features.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from showkeeper.context import AppContext

Job = Callable[["AppContext"], Awaitable[Any]]


async def rescan(ctx: AppContext) -> Any:
    from showkeeper.library.service import run_scan

    return await run_scan(ctx)


async def refresh(ctx: AppContext) -> Any:
    from showkeeper.sources.service import refresh_all

    return await refresh_all(ctx)


async def auto_download(ctx: AppContext) -> Any:
    from showkeeper.downloads.service import enqueue_missing

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
