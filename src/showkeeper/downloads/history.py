"""Read side of the download history: finished downloads (completed, failed, cancelled,
deleted by retention), newest first, for the pages, the REST API and the Sonarr v3 API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select

from showkeeper.db import Database
from showkeeper.db.models import DownloadHistory, Episode, Series


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    id: int
    episode_id: int | None
    series_id: int | None
    """None when the series has been removed since."""
    series_key: str
    series_name: str | None
    season: int
    episode: int
    title: str | None
    status: str
    file_path: str | None
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


async def history_page(
    db: Database,
    *,
    offset: int = 0,
    limit: int = 50,
    newest_first: bool = True,
    status: str | None = None,
    series_key: str | None = None,
    series_id: int | None = None,
    episode_id: int | None = None,
    episode_ids: list[int] | None = None,
) -> tuple[int, list[HistoryEntry]]:
    """How many rows match the filters, and one page of them (newest first by default)."""
    conditions: list[ColumnElement[bool]] = []
    if status:
        conditions.append(DownloadHistory.status == status)
    if series_key:
        conditions.append(DownloadHistory.series_key == series_key)
    if series_id is not None:
        conditions.append(Series.id == series_id)
    if episode_id is not None:
        conditions.append(DownloadHistory.episode_id == episode_id)
    if episode_ids is not None:
        conditions.append(DownloadHistory.episode_id.in_(episode_ids))
    joined: Any = (
        select(DownloadHistory, Series.id, Series.name, Episode.title)
        .outerjoin(Episode, Episode.id == DownloadHistory.episode_id)
        .outerjoin(Series, Series.key == DownloadHistory.series_key)
        .where(*conditions)
    )
    order = (
        [DownloadHistory.finished_at.desc(), DownloadHistory.id.desc()]
        if newest_first
        else [DownloadHistory.finished_at.asc(), DownloadHistory.id.asc()]
    )
    async with db.session() as s:
        total = int(
            (await s.execute(select(func.count()).select_from(joined.subquery()))).scalar_one()
        )
        rows = (await s.execute(joined.order_by(*order).offset(offset).limit(limit))).all()
    return total, [
        HistoryEntry(
            id=h.id,
            episode_id=h.episode_id,
            series_id=sid,
            series_key=h.series_key,
            series_name=name,
            season=h.season,
            episode=h.episode,
            title=title,
            status=h.status,
            file_path=h.file_path,
            size=h.size,
            candidate_url=h.candidate_url,
            error=h.error,
            attempts=h.attempts,
            started_at=h.started_at,
            finished_at=h.finished_at,
        )
        for h, sid, name, title in rows
    ]
