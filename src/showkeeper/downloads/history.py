"""Read side of the download history: pages of finished downloads, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select

from showkeeper.db import Database
from showkeeper.db.models import DownloadHistory, Series


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    id: int
    episode_id: int | None
    series_id: int | None
    series_key: str
    season: int
    episode: int
    status: str
    file_path: str | None
    size: int | None
    candidate_url: str | None
    error: str | None
    attempts: int
    started_at: datetime | None
    finished_at: datetime


async def history_page(
    db: Database,
    *,
    offset: int = 0,
    limit: int = 50,
    newest_first: bool = True,
    episode_id: int | None = None,
    series_id: int | None = None,
) -> tuple[int, list[HistoryEntry]]:
    """A page of history rows (with the series id when the series still exists) and the
    number of rows matching."""
    conditions: list[ColumnElement[bool]] = []
    if episode_id is not None:
        conditions.append(DownloadHistory.episode_id == episode_id)
    if series_id is not None:
        conditions.append(Series.id == series_id)
    base = select(DownloadHistory, Series.id).outerjoin(
        Series, Series.key == DownloadHistory.series_key
    )
    order = DownloadHistory.id.desc() if newest_first else DownloadHistory.id.asc()
    async with db.session() as s:
        total = int(
            (
                await s.execute(
                    select(func.count()).select_from(base.where(*conditions).subquery())
                )
            ).scalar_one()
        )
        rows = (
            await s.execute(base.where(*conditions).order_by(order).offset(offset).limit(limit))
        ).all()
    return total, [
        HistoryEntry(
            id=h.id,
            episode_id=h.episode_id,
            series_id=sid,
            series_key=h.series_key,
            season=h.season,
            episode=h.episode,
            status=h.status,
            file_path=h.file_path,
            size=h.size,
            candidate_url=h.candidate_url,
            error=h.error,
            attempts=h.attempts,
            started_at=h.started_at,
            finished_at=h.finished_at,
        )
        for h, sid in rows
    ]
