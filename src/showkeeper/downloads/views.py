"""Read side of the queue: counts per state and item listings for the API and the CLI."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select

from showkeeper.db import Database
from showkeeper.db.models import Episode, QueueItem, Series
from showkeeper.domain.queue_rules import STATUSES
from showkeeper.downloads import control

LiveProgress = Callable[[int], Any]
"""item id -> the running transfer's TransferProgress in this process, or None."""


@dataclass(frozen=True, slots=True)
class ItemView:
    id: int
    episode_id: int
    series_key: str
    series_name: str
    season: int
    episode: int
    title: str | None
    status: str
    priority: int
    attempts: int
    max_attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    downloaded_bytes: int
    total_bytes: int | None
    speed_bps: float | None
    eta_s: float | None
    source_host: str | None
    lease_owner: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def counts(db: Database) -> dict[str, int]:
    """Items per status (every status present, zero when none)."""
    async with db.session() as s:
        rows = await s.execute(select(QueueItem.status, func.count()).group_by(QueueItem.status))
        found = {status: n for status, n in rows}
    return {status: int(found.get(status, 0)) for status in STATUSES}


async def list_items(
    db: Database,
    *,
    statuses: Sequence[str] | None = None,
    item_ids: Sequence[int] | None = None,
    series_key: str | None = None,
    latest_per_episode: bool = False,
    offset: int = 0,
    limit: int = 50,
    newest_first: bool = False,
    live: LiveProgress | None = None,
) -> list[ItemView]:
    """Items with their episode and series: in claim order (priority, then age), or the
    most recent first. ``latest_per_episode`` keeps each episode's newest item only (what a
    series page shows beside an episode)."""
    conditions: list[ColumnElement[bool]] = []
    if statuses is not None:
        conditions.append(QueueItem.status.in_(list(statuses)))
    if item_ids is not None:
        conditions.append(QueueItem.id.in_(list(item_ids)))
    if series_key is not None:
        conditions.append(Series.key == series_key)
    if latest_per_episode:
        latest = select(func.max(QueueItem.id)).group_by(QueueItem.episode_id)
        if series_key is not None:
            latest = latest.join(Episode, Episode.id == QueueItem.episode_id).where(
                Episode.series_id
                == select(Series.id).where(Series.key == series_key).scalar_subquery()
            )
        conditions.append(QueueItem.id.in_(latest))
    query = (
        select(QueueItem, Episode, Series.key, Series.name)
        .join(Episode, Episode.id == QueueItem.episode_id)
        .join(Series, Series.id == Episode.series_id)
        .where(*conditions)
        .order_by(
            *((QueueItem.id.desc(),) if newest_first else (QueueItem.priority.desc(), QueueItem.id))
        )
        .offset(offset)
        .limit(limit)
    )
    async with db.session() as s:
        rows = (await s.execute(query)).all()
    out = []
    for item, episode, key, name in rows:
        progress = live(item.id) if live is not None else None
        done = item.downloaded_bytes
        total = item.total_bytes
        if item.status == "completed" and episode.size is not None:
            done = total = episode.size
        if progress is not None:
            done = max(done, progress.downloaded_bytes)
            total = progress.total_bytes if progress.total_bytes is not None else total
        out.append(
            ItemView(
                id=item.id,
                episode_id=item.episode_id,
                series_key=key,
                series_name=name,
                season=episode.season,
                episode=episode.episode,
                title=episode.title,
                status=item.status,
                priority=item.priority,
                attempts=item.attempts,
                max_attempts=item.max_attempts,
                next_attempt_at=item.next_attempt_at,
                last_error=item.last_error,
                downloaded_bytes=done,
                total_bytes=total,
                speed_bps=progress.speed_bps if progress is not None else None,
                eta_s=progress.eta_s if progress is not None else None,
                source_host=item.source_host,
                lease_owner=item.lease_owner,
                created_at=item.created_at,
                started_at=item.started_at,
                finished_at=item.finished_at,
            )
        )
    return out


async def status(
    db: Database, *, offset: int = 0, limit: int = 50, live: LiveProgress | None = None
) -> dict[str, Any]:
    """The queue at a glance: state, counts, active items with progress, a page of queued
    items and the most recent failures."""
    state = await control.get_state(db)
    per_status = await counts(db)
    active = await list_items(db, statuses=["downloading"], limit=1000, live=live)
    queued = await list_items(db, statuses=["queued"], offset=offset, limit=limit)
    failed = await list_items(db, statuses=["failed"], limit=20, newest_first=True)
    return {
        "state": state,
        "paused": state != "running",
        "counts": per_status,
        "active": [i.as_dict() for i in active],
        "queued": {
            "total": per_status["queued"],
            "offset": offset,
            "limit": limit,
            "items": [i.as_dict() for i in queued],
        },
        "failed": [i.as_dict() for i in failed],
    }
