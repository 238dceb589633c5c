"""Run a worker pool in this process until given queue items have finished."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from showkeeper.db.models import Episode, QueueItem, Series
from showkeeper.domain.queue_rules import ACTIVE
from showkeeper.downloads.worker import WorkerPool

if TYPE_CHECKING:
    from showkeeper.context import AppContext

_ENDED = frozenset({"download_complete", "download_failed", "queue_status"})
"""Events after which an item of this run may have ended."""


async def active_items_of_series(ctx: AppContext, series_key: str) -> list[int]:
    """Queued or downloading items of a series' episodes."""
    async with ctx.db.session() as s:
        rows = await s.execute(
            select(QueueItem.id)
            .join(Episode, Episode.id == QueueItem.episode_id)
            .join(Series, Series.id == Episode.series_id)
            .where(Series.key == series_key, QueueItem.status.in_(list(ACTIVE)))
            .order_by(QueueItem.id)
        )
        return list(rows.scalars())


@dataclass(frozen=True, slots=True)
class ItemView:
    """What a person is told about one queue item: its episode, status, size and error."""

    item_id: int
    season: int
    episode: int
    title: str | None
    status: str
    size: int | None
    """The episode file's size once downloaded."""
    error: str | None


async def item_views(ctx: AppContext, item_ids: Collection[int]) -> dict[int, ItemView]:
    """item id -> its view (items that were removed are missing)."""
    async with ctx.db.session() as s:
        rows = await s.execute(
            select(
                QueueItem.id,
                Episode.season,
                Episode.episode,
                Episode.title,
                QueueItem.status,
                Episode.size,
                QueueItem.last_error,
            )
            .join(Episode, Episode.id == QueueItem.episode_id)
            .where(QueueItem.id.in_(list(item_ids)))
        )
        return {row[0]: ItemView(*row) for row in rows}


async def statuses(ctx: AppContext, item_ids: Collection[int]) -> dict[int, str]:
    """item id -> status (items that were removed are missing)."""
    async with ctx.db.session() as s:
        rows = await s.execute(
            select(QueueItem.id, QueueItem.status).where(QueueItem.id.in_(list(item_ids)))
        )
        return {item_id: status for item_id, status in rows}


async def run_until_finished(
    ctx: AppContext,
    item_ids: Collection[int],
    *,
    concurrency: int | None = None,
    poll_interval_s: float = 0.5,
    on_poll: Callable[[dict[int, str]], None] | None = None,
) -> dict[int, str]:
    """Download these items with a pool of this process; return their final statuses.

    Items another worker holds are waited for, not taken over. Returns when none of them is
    queued or downloading any more. ``on_poll`` gets the statuses each time they are read.
    """
    pool = WorkerPool(
        ctx, concurrency=concurrency, item_ids=item_ids, poll_interval_s=poll_interval_s
    )
    # an item of this process that ends is read at once, not at the next poll (items held
    # by other processes are seen by the poll)
    ended = ctx.bus.subscribe(types=_ENDED, maxsize=10_000)
    await pool.start()
    ctx.services.append(pool)  # so status views see its live progress
    try:
        while True:
            current = await statuses(ctx, item_ids)
            if on_poll is not None:
                on_poll(current)
            if not any(status in ACTIVE for status in current.values()):
                return current
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ended.get(), poll_interval_s)
            while ended.get_nowait() is not None:
                pass
    finally:
        ended.close()
        ctx.services.remove(pool)
        await pool.stop()
