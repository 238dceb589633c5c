"""Read side of the download history: finished downloads (completed, failed, cancelled)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select

from showkeeper.db import Database
from showkeeper.db.models import DownloadHistory, Episode, Series


@dataclass(frozen=True, slots=True)
class HistoryRow:
    id: int
    episode_id: int | None
    series_key: str
    series_name: str | None
    season: int
    episode: int
    title: str | None
    status: str
    size: int | None
    candidate_url: str | None
    error: str | None
    attempts: int
    started_at: datetime | None
    finished_at: datetime

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None:
            return None
        return max(0.0, (self.finished_at - self.started_at).total_seconds())


async def list_history(
    db: Database,
    *,
    status: str | None = None,
    series_key: str | None = None,
    episode_ids: list[int] | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[int, list[HistoryRow]]:
    """(how many rows match, one page of them, newest first)."""
    conditions: list[ColumnElement[bool]] = []
    if status:
        conditions.append(DownloadHistory.status == status)
    if series_key:
        conditions.append(DownloadHistory.series_key == series_key)
    if episode_ids is not None:
        conditions.append(DownloadHistory.episode_id.in_(episode_ids))
    query: Any = (
        select(DownloadHistory, Series.name, Episode.title)
        .outerjoin(Episode, Episode.id == DownloadHistory.episode_id)
        .outerjoin(Series, Series.key == DownloadHistory.series_key)
        .where(*conditions)
        .order_by(DownloadHistory.finished_at.desc(), DownloadHistory.id.desc())
        .offset(offset)
        .limit(limit)
    )
    async with db.session() as s:
        total = int(
            await s.scalar(select(func.count()).select_from(DownloadHistory).where(*conditions))
            or 0
        )
        rows = (await s.execute(query)).all()
    return total, [
        HistoryRow(
            id=h.id,
            episode_id=h.episode_id,
            series_key=h.series_key,
            series_name=name,
            season=h.season,
            episode=h.episode,
            title=title,
            status=h.status,
            size=h.size,
            candidate_url=h.candidate_url,
            error=h.error,
            attempts=h.attempts,
            started_at=h.started_at,
            finished_at=h.finished_at,
        )
        for h, name, title in rows
    ]
