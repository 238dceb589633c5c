"""What "missing" means, defined once.

An episode is missing when it should be on disk and nothing is under way to put it there:
its series and the episode are monitored, it aired (an episode without an air date counts
as aired: sources without dates list what exists), it is known at the source, the series'
filters keep it, it is not ignored (a retention rule removed it, or the user said so: undo
with ``library.retention.unignore``), it is not on disk, and it has no active (queued or
downloading) queue row.

Every reader uses :func:`is_missing`: ``/api/library/missing``, the series list's
``missing_count``, a series' detail, the ``showkeeper_episodes_missing`` gauge, the
auto-download job and ``showkeeper missing``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, String, and_, exists, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from showkeeper.db import Database
from showkeeper.db.models import Episode, QueueItem, Series
from showkeeper.domain.queue_rules import ACTIVE, STATUSES
from showkeeper.errors import NotFoundError


@dataclass(frozen=True, slots=True)
class MissingEpisode:
    """An episode that should be on disk and is not (and is not queued)."""

    episode_id: int
    series_key: str
    series_name: str
    season: int
    episode: int
    title: str | None
    air_date: date | None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["air_date"] = self.air_date.isoformat() if self.air_date else None
        return out


def today_utc() -> date:
    return datetime.now(UTC).date()


def is_queued() -> ColumnElement[bool]:
    """The episode has an active queue row."""
    # Literal values (not bound parameters) in the index's order ('queued', 'downloading'), so
    # SQLite can prove the query implies the partial index uq_download_queue_active_episode's
    # predicate and look each episode up in it.
    active = [literal_column(f"'{state}'", String) for state in STATUSES if state in ACTIVE]
    return exists().where(and_(QueueItem.episode_id == Episode.id, QueueItem.status.in_(active)))


def is_missing(today: date, *, monitored: bool = True) -> ColumnElement[bool]:
    """The condition, over ``Episode`` joined to its ``Series``.

    ``monitored=False`` asks the other side of the same rule: episodes that would be missing
    if they (or their series) were monitored, as Sonarr's "unmonitored missing" list shows.
    """
    wanted = and_(Series.monitored.is_(True), Episode.monitored.is_(True))
    return and_(
        wanted if monitored else ~wanted,
        Episode.at_source.is_(True),
        Episode.filtered.is_(False),
        Episode.ignored.is_(False),
        Episode.is_downloaded.is_(False),
        or_(Episode.air_date.is_(None), Episode.air_date <= today),
        ~is_queued(),
    )


async def missing_episodes(
    db: Database, *, series_key: str | None = None, today: date | None = None
) -> list[MissingEpisode]:
    """The missing episodes, by series key, season and episode.

    Raises:
        NotFoundError: ``series_key`` names no series.
    """
    query = (
        select(Episode, Series.key, Series.name)
        .join(Series, Series.id == Episode.series_id)
        .where(is_missing(today or today_utc()))
        .order_by(Series.key, Episode.season, Episode.episode)
    )
    async with db.session() as s:
        if series_key is not None:
            if await s.scalar(select(Series.id).where(Series.key == series_key)) is None:
                raise NotFoundError(f"no series with key {series_key!r}")
            query = query.where(Series.key == series_key)
        rows = await s.execute(query)
        return [
            MissingEpisode(ep.id, key, name, ep.season, ep.episode, ep.title, ep.air_date)
            for ep, key, name in rows
        ]


MissingSort = Literal["air_date", "series", "episode"]


async def missing_page(
    db: Database,
    *,
    offset: int,
    limit: int,
    sort: MissingSort = "air_date",
    descending: bool = True,
    monitored: bool = True,
    today: date | None = None,
) -> tuple[int, list[Episode]]:
    """One page of missing episodes (ORM rows, detached) and how many there are in all."""
    condition = is_missing(today or today_utc(), monitored=monitored)
    keys: dict[str, list[Any]] = {
        "air_date": [Episode.air_date, Episode.series_id, Episode.season, Episode.episode],
        "series": [Series.name, Episode.season, Episode.episode],
        "episode": [Episode.season, Episode.episode, Series.name],
    }
    order = [k.desc() if descending else k.asc() for k in keys[sort]]
    query = (
        select(Episode)
        .join(Series, Series.id == Episode.series_id)
        .where(condition)
        .order_by(*order, Episode.id)
        .offset(offset)
        .limit(limit)
    )
    total_query = (
        select(func.count())
        .select_from(Episode)
        .join(Series, Series.id == Episode.series_id)
        .where(condition)
    )
    async with db.session() as s:
        total = int((await s.execute(total_query)).scalar_one())
        rows = list((await s.execute(query)).scalars()) if offset < total else []
    return total, rows


async def missing_ids(db: Database, *, series_key: str, today: date | None = None) -> set[int]:
    """The ids of one series' missing episodes (a page marks them; no rows are loaded)."""
    query = (
        select(Episode.id)
        .join(Series, Series.id == Episode.series_id)
        .where(Series.key == series_key, is_missing(today or today_utc()))
    )
    async with db.session() as s:
        return set((await s.execute(query)).scalars())


async def count_missing(
    session: AsyncSession, *, series_id: int | None = None, today: date | None = None
) -> int:
    """How many episodes are missing, in the library or in one series."""
    query = (
        select(func.count())
        .select_from(Episode)
        .join(Series, Series.id == Episode.series_id)
        .where(is_missing(today or today_utc()))
    )
    if series_id is not None:
        query = query.where(Episode.series_id == series_id)
    return int((await session.execute(query)).scalar_one())
