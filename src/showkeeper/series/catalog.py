"""Series with per-season statistics, tags and artwork, as library-wide readers need them
(the Sonarr v3 API's series list): one grouped pass over the episodes for all series.

Statistics follow Sonarr's meaning: ``episode_count`` counts episodes that are wanted so
far (monitored, kept by the filters, known at the source and aired) or on disk;
``total`` every episode the filters keep or that is on disk; ``files`` those on disk.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from showkeeper.db import Database
from showkeeper.db.models import Episode, Series
from showkeeper.errors import NotFoundError
from showkeeper.metadata.artwork import FILE_NAMES  # served at /api/series/{key}/artwork/{kind}
from showkeeper.series.missing import today_utc
from showkeeper.series.tags import tags_by_series


@dataclass(frozen=True, slots=True)
class SeasonStats:
    season: int
    monitored: bool
    episode_count: int
    files: int
    total: int
    size: int
    next_airing: date | None
    previous_airing: date | None


@dataclass(slots=True)
class SeriesEntry:
    id: int
    key: str
    folder: str
    name: str
    year: int | None
    source_kind: str
    source_url: str | None
    monitored: bool
    overview: str | None
    language: str | None
    image_url: str | None
    loading_status: str
    created_at: datetime
    seasons: list[SeasonStats] = field(default_factory=list)
    tags: list[int] = field(default_factory=list)
    artwork: list[str] = field(default_factory=list)
    """Artwork kinds whose file exists in the series folder."""

    @property
    def episode_count(self) -> int:
        return sum(s.episode_count for s in self.seasons)

    @property
    def files(self) -> int:
        return sum(s.files for s in self.seasons)

    @property
    def total(self) -> int:
        return sum(s.total for s in self.seasons)

    @property
    def size(self) -> int:
        return sum(s.size for s in self.seasons)

    @property
    def next_airing(self) -> date | None:
        found = [s.next_airing for s in self.seasons if s.next_airing]
        return min(found) if found else None

    @property
    def previous_airing(self) -> date | None:
        found = [s.previous_airing for s in self.seasons if s.previous_airing]
        return max(found) if found else None


_SERIES_COLUMNS = (
    Series.id,
    Series.key,
    Series.folder,
    Series.name,
    Series.year,
    Series.source_kind,
    Series.source_url,
    Series.monitored,
    Series.overview,
    Series.language,
    Series.image_url,
    Series.loading_status,
    Series.created_at,
)


def _season_stats_query(today: date, series_ids: Sequence[int] | None) -> Any:
    wanted = (
        Episode.monitored.is_(True)
        & Episode.filtered.is_(False)
        & Episode.at_source.is_(True)
        & (Episode.air_date.is_(None) | (Episode.air_date <= today))
    )
    on_disk = Episode.is_downloaded.is_(True)
    query = select(
        Episode.series_id,
        Episode.season,
        func.max(case((Episode.monitored.is_(True), 1), else_=0)),
        func.sum(case((on_disk | wanted, 1), else_=0)),
        func.sum(case((on_disk, 1), else_=0)),
        func.sum(case((on_disk | Episode.filtered.is_(False), 1), else_=0)),
        func.sum(case((on_disk, func.coalesce(Episode.size, 0)), else_=0)),
        func.min(case((Episode.air_date > today, Episode.air_date), else_=None)),
        func.max(case((Episode.air_date <= today, Episode.air_date), else_=None)),
    ).group_by(Episode.series_id, Episode.season)
    if series_ids is not None:
        query = query.where(Episode.series_id.in_(list(series_ids)))
    return query


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])  # SQLite answers min()/max() of dates as text


async def season_stats(
    s: AsyncSession, series_ids: Sequence[int] | None = None, *, today: date | None = None
) -> dict[int, list[SeasonStats]]:
    """Per series id, its seasons' statistics in season order (one grouped statement)."""
    out: dict[int, list[SeasonStats]] = {}
    rows = await s.execute(_season_stats_query(today or today_utc(), series_ids))
    for sid, season, monitored, count, files, total, size, nxt, prev in rows:
        out.setdefault(sid, []).append(
            SeasonStats(
                season=int(season),
                monitored=bool(monitored),
                episode_count=int(count or 0),
                files=int(files or 0),
                total=int(total or 0),
                size=int(size or 0),
                next_airing=_as_date(nxt),
                previous_airing=_as_date(prev),
            )
        )
    for seasons in out.values():
        seasons.sort(key=lambda x: x.season)
    return out


def artwork_present(library_dir: Path | None, folders: Sequence[str]) -> list[list[str]]:
    """For each series folder, the artwork kinds whose file exists (blocking: run in a thread).

    A folder name that is not a plain name (as a hostile title could make) has no artwork.
    """
    out: list[list[str]] = []
    for folder in folders:
        kinds: list[str] = []
        if library_dir is not None and folder and "/" not in folder and folder not in (".", ".."):
            base = os.path.join(library_dir, folder)
            try:
                names = set(os.listdir(base))
            except OSError:
                names = set()
            kinds = [kind for kind, name in FILE_NAMES.items() if name in names]
        out.append(kinds)
    return out


async def series_catalog(
    db: Database,
    *,
    library_dir: Path | None,
    series_ids: Sequence[int] | None = None,
    today: date | None = None,
) -> list[SeriesEntry]:
    """Series (all, or these ids) by name, with seasons' statistics, tags and artwork."""
    query = select(*_SERIES_COLUMNS).order_by(Series.name, Series.id)
    if series_ids is not None:
        query = query.where(Series.id.in_(list(series_ids)))
    async with db.session() as s:
        rows = (await s.execute(query)).all()
        stats = await season_stats(s, series_ids, today=today)
        tags = await tags_by_series(s, series_ids)
    entries = [
        SeriesEntry(**row._asdict(), seasons=stats.get(row.id, []), tags=tags.get(row.id, []))
        for row in rows
    ]
    found = await asyncio.to_thread(artwork_present, library_dir, [e.folder for e in entries])
    for entry, kinds in zip(entries, found, strict=True):
        entry.artwork = kinds
    return entries


async def series_entry(db: Database, series_id: int, *, library_dir: Path | None) -> SeriesEntry:
    """One series of the catalog. Raises NotFoundError."""
    found = await series_catalog(db, library_dir=library_dir, series_ids=[series_id])
    if not found:
        raise NotFoundError(f"no series with id {series_id}")
    return found[0]
