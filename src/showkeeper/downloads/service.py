"""Queue operations for the API and the CLI: validate, change the queue, tell the bus.

Each change publishes a ``queue_status`` event (action, item ids, state), which wakes the
worker pool of this process at once; other processes see the change at their next poll.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select

from showkeeper.db.models import Episode, Series
from showkeeper.domain.queue_rules import QueueCommand, QueueState
from showkeeper.downloads import control, finish, queue, views
from showkeeper.downloads.tables import EPISODES, chunks, id_in, is_postgres
from showkeeper.downloads.worker import WorkerPool
from showkeeper.errors import NotFoundError, ShowkeeperError
from showkeeper.logging import get_logger
from showkeeper.series.missing import missing_episodes

if TYPE_CHECKING:
    from showkeeper.context import AppContext

log = get_logger(__name__)

MAX_EPISODES_PER_CALL = 100_000


def _announce(ctx: AppContext, action: str, **data: Any) -> None:
    ctx.bus.publish("queue_status", action=action, **data)


async def enqueue_episodes(
    ctx: AppContext, episode_ids: Sequence[int], *, priority: int = 0
) -> queue.EnqueueResult:
    """Queue episodes by id; an episode already queued or downloading is left as it is.

    Raises:
        ShowkeeperError: no ids, or too many.
        NotFoundError: an id names no episode (then nothing is queued).
    """
    wanted = list(dict.fromkeys(int(i) for i in episode_ids))
    if not wanted:
        raise ShowkeeperError("no episode ids given")
    if len(wanted) > MAX_EPISODES_PER_CALL:
        raise ShowkeeperError(f"at most {MAX_EPISODES_PER_CALL} episodes per call")
    async with ctx.db.session() as s:
        known: set[int] = set()
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start : start + 1000]
            known.update(
                (await s.execute(select(Episode.id).where(Episode.id.in_(chunk)))).scalars()
            )
    unknown = [i for i in wanted if i not in known]
    if unknown:
        shown = ", ".join(str(i) for i in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise NotFoundError(f"no episode with id {shown}; nothing was queued")
    return await _enqueue(ctx, wanted, priority)


async def _enqueue(ctx: AppContext, ids: Sequence[int], priority: int) -> queue.EnqueueResult:
    result = await queue.enqueue(
        ctx.db, ids, priority=priority, max_attempts=ctx.settings.download_max_attempts
    )
    if result.item_ids:
        _announce(ctx, "added", item_ids=result.item_ids)
    return result


async def enqueue_series(
    ctx: AppContext, series_key: str, *, missing: bool = True, priority: int = 0
) -> queue.EnqueueResult:
    """Queue a series' missing episodes (``missing``), or every episode of it not on disk.

    Episodes without any download candidate are left out (they could only fail) and
    reported in ``skipped_no_candidates``.

    Raises:
        NotFoundError: no series with that key.
    """
    if missing:
        return await _enqueue_downloadable(ctx, await _missing_ids(ctx, series_key), priority)
    async with ctx.db.session() as s:
        series_id = await s.scalar(select(Series.id).where(Series.key == series_key))
        if series_id is None:
            raise NotFoundError(f"no series with key {series_key!r}")
        ids = list(
            (
                await s.execute(
                    select(Episode.id)
                    .where(
                        Episode.series_id == series_id,
                        Episode.at_source.is_(True),
                        Episode.is_downloaded.is_(False),
                    )
                    .order_by(Episode.season, Episode.episode)
                )
            ).scalars()
        )
    return await _enqueue_downloadable(ctx, ids, priority)


async def _enqueue_downloadable(
    ctx: AppContext, ids: Sequence[int], priority: int
) -> queue.EnqueueResult:
    """Queue those of ``ids`` that have a download candidate; report the others."""
    keep, skipped = await _split_by_candidates(ctx, ids)
    if skipped:
        log.warning(
            "episodes without download candidates were not queued; refresh their source",
            skipped_no_candidates=len(skipped),
            queued_candidates=len(keep),
        )
    result = await _enqueue(ctx, keep, priority)
    return replace(result, skipped_no_candidates=skipped)


async def _split_by_candidates(ctx: AppContext, ids: Sequence[int]) -> tuple[list[int], list[int]]:
    """``ids`` split into episodes with at least one candidate URL and the rest (in order)."""
    if not ids:
        return [], []
    # candidates[0].url, as queue.enqueue reads the source host: NULL for [], null, or junk
    first_url = EPISODES.c.candidates[(0, "url")].as_string()
    usable: set[int] = set()
    async with ctx.db.session() as s:
        pg = is_postgres(s)
        for chunk in chunks(list(ids)):
            rows = await s.execute(
                select(EPISODES.c.id).where(
                    id_in(EPISODES.c.id, chunk, postgres=pg), first_url.is_not(None)
                )
            )
            usable.update(rows.scalars())
    return [i for i in ids if i in usable], [i for i in ids if i not in usable]


async def _missing_ids(ctx: AppContext, series_key: str | None) -> list[int]:
    return [m.episode_id for m in await missing_episodes(ctx.db, series_key=series_key)]


async def enqueue_missing(ctx: AppContext, *, series_key: str | None = None) -> int:
    """Queue the missing episodes (:mod:`showkeeper.series.missing`) of one series or all;
    returns how many were queued.

    Missing episodes without any download candidate are not queued; their count is logged.

    Raises:
        NotFoundError: ``series_key`` names no series.
    """
    result = await _enqueue_downloadable(ctx, await _missing_ids(ctx, series_key), 0)
    return len(result.item_ids)


async def remove_item(ctx: AppContext, item_id: int) -> Literal["cancelled", "removed"]:
    """Cancel the item if it is queued or downloading, else remove it from the queue.

    Raises:
        NotFoundError: no such item.
    """
    action, cancelled = await finish.remove(ctx.db, item_id)
    if cancelled is not None:
        _announce(ctx, "cancelled", item_ids=[item_id], episode_id=cancelled.episode_id)
    else:
        _announce(ctx, "removed", item_ids=[item_id])
    return action


async def apply(ctx: AppContext, command: QueueCommand) -> QueueState:
    """start / stop / pause / resume the whole queue (every worker process obeys)."""
    state = await control.command(ctx.db, command)
    _announce(ctx, "state", item_ids=[], state=state)
    return state


async def retry_items(ctx: AppContext, item_ids: Sequence[int] | None = None) -> list[int]:
    """Queue failed items again (all failed ones when no ids are given)."""
    retried = await finish.retry(ctx.db, item_ids)
    if retried:
        _announce(ctx, "retried", item_ids=retried)
    return retried


async def clear_completed(ctx: AppContext) -> int:
    """Remove completed and cancelled items from the queue (history keeps them)."""
    removed = await finish.clear_finished(ctx.db)
    if removed:
        _announce(ctx, "cleared", item_ids=[], removed=removed)
    return removed


async def status(ctx: AppContext, *, offset: int = 0, limit: int = 50) -> dict[str, Any]:
    """State, counts, active items (with live speed when this process runs them), a page of
    queued items and recent failures."""
    pool = ctx.service(WorkerPool)
    live = pool.progress_of if pool is not None else None
    return await views.status(ctx.db, offset=offset, limit=limit, live=live)


VISIBLE = ("downloading", "queued", "failed")
"""What a queue listing shows: under way, waiting, and failed (until retried or removed)."""


@dataclass(frozen=True, slots=True)
class QueuePage:
    total: int
    items: list[views.ItemView]
    state: QueueState
    counts: dict[str, int]


async def queue_page(
    ctx: AppContext,
    *,
    offset: int = 0,
    limit: int = 50,
    statuses: Sequence[str] = VISIBLE,
) -> QueuePage:
    """Queue items in claim order (downloading first), with live progress where this
    process runs them, the total of those statuses, the queue state and counts per status."""
    pool = ctx.service(WorkerPool)
    live = pool.progress_of if pool is not None else None
    per_status = await views.counts(ctx.db)
    items: list[views.ItemView] = []
    # downloading rows first, then the others: the order a user reads a queue in
    skip = offset
    for status_group in (["downloading"], [s for s in statuses if s != "downloading"]):
        wanted = [s for s in status_group if s in statuses]
        if not wanted or len(items) >= limit:
            continue
        in_group = sum(per_status.get(s, 0) for s in wanted)
        if skip >= in_group:
            skip -= in_group
            continue
        found = await views.list_items(
            ctx.db, statuses=wanted, offset=skip, limit=limit - len(items), live=live
        )
        skip = 0
        items.extend(found)
    total = sum(per_status.get(s, 0) for s in statuses)
    return QueuePage(total, items, await control.get_state(ctx.db), per_status)


async def series_items(ctx: AppContext, series_key: str) -> dict[int, views.ItemView]:
    """Each episode's newest queue item in a series, by episode id (live progress included)."""
    pool = ctx.service(WorkerPool)
    live = pool.progress_of if pool is not None else None
    items = await views.list_items(
        ctx.db, series_key=series_key, latest_per_episode=True, limit=1_000_000, live=live
    )
    return {item.episode_id: item for item in items}


async def move_item(ctx: AppContext, item_id: int, direction: Literal["up", "down"]) -> int:
    """Move a queued item one place up or down in the queue; returns its new priority.

    Raises:
        ShowkeeperError: the item is not queued (downloading, finished or unknown).
    """
    priority = await queue.move(ctx.db, item_id, direction)
    if priority is None:
        raise ShowkeeperError(
            f"queue item {item_id} is not waiting in the queue; only queued items move"
        )
    _announce(ctx, "moved", item_ids=[item_id], priority=priority)
    return priority
