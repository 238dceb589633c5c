"""Series as the API and the pages show them: a page with episode counts (one query),
details, edits, deletion (files only inside the library folder).

Missing counts use the one definition in :mod:`showkeeper.series.missing`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Select, case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from showkeeper.db import Database
from showkeeper.db.models import Episode, QueueItem, Series
from showkeeper.domain.paths import UnsafePathError, ensure_inside
from showkeeper.errors import NotFoundError, ShowkeeperError
from showkeeper.series.missing import is_missing, today_utc
from showkeeper.series.tags import set_series_tags
from showkeeper.sources.filters import series_filter, validate_options
from showkeeper.sources.store import refilter

SortField = Literal["name", "key", "year", "created_at", "episodes", "missing", "downloaded"]


@dataclass(frozen=True, slots=True)
class SeriesQuery:
    page: int = 1
    page_size: int = 50
    sort: SortField = "name"
    order: Literal["asc", "desc"] = "asc"
    q: str | None = None
    monitored: bool | None = None
    source_kind: str | None = None
    loading_status: str | None = None
    has_missing: bool | None = None
    # True: still being added (any status but completed or failed); False: done adding
    loading: bool | None = None


# plain columns, not ORM objects: a page is read-only and this is the hot path
_COLUMNS = [c for c in Series.__table__.c if c.name not in ("source_state",)]


def _counts(series_ids: Select[Any] | None = None) -> Any:
    """Per-series episode, downloaded and missing counts (optionally for some series only)."""
    query = (
        select(
            Episode.series_id.label("series_id"),
            func.count().label("episodes"),
            func.sum(case((Episode.is_downloaded.is_(True), 1), else_=0)).label("downloaded"),
            func.sum(case((is_missing(today_utc()), 1), else_=0)).label("missing"),
        )
        .join(Series, Series.id == Episode.series_id)
        .group_by(Episode.series_id)
    )
    if series_ids is not None:
        query = query.where(Episode.series_id.in_(series_ids))
    return query.subquery("counts")


def _filtered(query: SeriesQuery) -> Select[Any]:
    stmt = select(Series.id)
    if query.q:
        like = f"%{query.q.lower()}%"
        stmt = stmt.where(func.lower(Series.name).like(like) | Series.key.like(like))
    if query.monitored is not None:
        stmt = stmt.where(Series.monitored.is_(query.monitored))
    if query.source_kind:
        stmt = stmt.where(Series.source_kind == query.source_kind)
    if query.loading_status:
        stmt = stmt.where(Series.loading_status == query.loading_status)
    if query.loading is not None:
        settled = Series.loading_status.in_(("completed", "failed"))
        stmt = stmt.where(~settled if query.loading else settled)
    return stmt


async def list_series(db: Database, query: SeriesQuery) -> tuple[int, list[dict[str, Any]]]:
    """One page of series with their counts, and the total matching the filters.

    The common case (sorted by a series column, no missing filter) counts episodes only
    for the series on the page; sorting or filtering by a count aggregates once over all.
    """
    filtered = _filtered(query)
    by_count = query.sort in ("episodes", "missing", "downloaded") or query.has_missing is not None
    offset = (query.page - 1) * query.page_size
    desc = query.order == "desc"
    async with db.session() as s:
        if by_count:
            counts = _counts()
            missing = func.coalesce(counts.c.missing, 0)
            stmt = (
                select(*_COLUMNS, counts.c.episodes, counts.c.downloaded, counts.c.missing)
                .outerjoin(counts, counts.c.series_id == Series.id)
                .where(Series.id.in_(filtered))
            )
            if query.has_missing is not None:
                stmt = stmt.where(missing > 0 if query.has_missing else missing == 0)
            total = await _count(s, stmt)
            key = (
                func.coalesce(getattr(counts.c, query.sort), 0)
                if query.sort in ("episodes", "missing", "downloaded")
                else getattr(Series, query.sort)
            )
        else:
            page_ids = (
                filtered.order_by(_order(getattr(Series, query.sort), desc), Series.id)
                .limit(query.page_size)
                .offset(offset)
            )
            counts = _counts(page_ids)
            # the total rides along as a column: one round trip for the whole page
            total_col = select(func.count()).select_from(filtered.subquery()).scalar_subquery()
            stmt = (
                select(
                    *_COLUMNS,
                    counts.c.episodes,
                    counts.c.downloaded,
                    counts.c.missing,
                    total_col.label("total"),
                )
                .outerjoin(counts, counts.c.series_id == Series.id)
                .where(Series.id.in_(page_ids))
            )
            total = -1
            key = getattr(Series, query.sort)
            offset = 0  # the page is already cut
        stmt = stmt.order_by(_order(key, desc), Series.id).limit(query.page_size).offset(offset)
        rows = (await s.execute(stmt)).all()
        if total < 0:
            total = int(rows[0].total) if rows else await _count(s, filtered)
    return total, [
        series_dict(row, row.episodes, row.downloaded, row.missing)  # type: ignore[arg-type]
        for row in rows
    ]


def _order(column: Any, desc: bool) -> Any:
    return column.desc() if desc else column.asc()


async def _count(s: AsyncSession, stmt: Select[Any]) -> int:
    return int((await s.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one())


def series_dict(
    series: Series, episodes: int | None, downloaded: int | None, missing: int | None
) -> dict[str, Any]:
    return {
        "key": series.key,
        "folder": series.folder,
        "name": series.name,
        "year": series.year,
        "source_kind": series.source_kind,
        "source_url": series.source_url,
        "monitored": series.monitored,
        "overview": series.overview,
        "language": series.language,
        "image_url": series.image_url,
        "loading_status": series.loading_status,
        "loading_error": series.loading_error,
        "options": series.options or {},
        "episode_count": int(episodes or 0),
        "downloaded_count": int(downloaded or 0),
        "missing_count": int(missing or 0),
        "created_at": series.created_at,
        "updated_at": series.updated_at,
        "metadata": metadata_dict(series),
    }


def metadata_dict(series: Series) -> dict[str, Any]:
    """What the metadata loader (metadata/loader.py) did for the series, and its artwork URLs."""
    base = f"/api/series/{series.key}/artwork"
    return {
        "status": series.metadata_status,
        "tmdb_id": series.tmdb_id,
        "tmdb_match": series.tmdb_match,
        "progress": {
            "episodes": bool(series.episodes_loaded),
            "nfo": bool(series.has_nfo),
            "logo": bool(series.logo_loaded),
            "images": bool(series.images_loaded),
        },
        "errors": series.metadata_errors or {},
        "started_at": series.loading_started_at,
        "completed_at": series.loading_completed_at,
        "artwork": {kind: f"{base}/{kind}" for kind in ("poster", "fanart", "logo", "banner")},
    }


def episode_dict(ep: Any) -> dict[str, Any]:
    """An episode (an Episode or a row of _EPISODE_COLUMNS) as the API shows it."""
    return {
        "id": ep.id,
        "season": ep.season,
        "episode": ep.episode,
        "absolute_number": ep.absolute_number,
        "title": ep.title,
        "air_date": ep.air_date,
        "duration_s": ep.duration_s,
        "at_source": ep.at_source,
        "monitored": ep.monitored,
        "filtered": ep.filtered,
        "ignored": bool(ep.ignored),
        "is_downloaded": ep.is_downloaded,
        "file_path": ep.file_path,
        "size": ep.size,
    }


async def find_series(s: AsyncSession, key: str) -> Series:
    """By key, else by folder name (older clients sent the folder). Raises NotFoundError."""
    for column in (Series.key, Series.folder):
        found = (await s.execute(select(Series).where(column == key))).scalar_one_or_none()
        if found is not None:
            return found
    raise NotFoundError(f"no series {key[:200]!r}; GET /api/series lists them")


class AmbiguousSeriesError(ShowkeeperError):
    """A reference matches several series; ``candidates`` lists their keys."""

    status_code = 409
    exit_code = 2

    def __init__(self, ref: str, candidates: list[tuple[str, str]]) -> None:
        shown = ", ".join(f"{key} ({name})" for key, name in candidates[:10])
        more = f" and {len(candidates) - 10} more" if len(candidates) > 10 else ""
        super().__init__(f"{ref!r} matches several series: {shown}{more}; give more of the key")
        self.candidates = candidates


async def resolve_series_key(db: Database, ref: str) -> str:
    """The key of the series ``ref`` names: its key or folder name, else a unique prefix of
    its key or of its name (case-insensitive).

    Raises:
        NotFoundError: nothing matches.
        AmbiguousSeriesError: a prefix matches several series.
    """
    ref = ref.strip()
    low = ref.lower()
    async with db.session() as s:
        exact = await s.scalar(
            select(Series.key).where(
                or_(Series.key == ref, Series.folder == ref, func.lower(Series.folder) == low)
            )
        )
        if exact is not None:
            return exact
        if not low:
            raise NotFoundError("no series given")
        rows = (
            await s.execute(
                select(Series.key, Series.name)
                .where(
                    or_(
                        Series.key.startswith(low, autoescape=True),
                        func.lower(Series.name).startswith(low, autoescape=True),
                    )
                )
                .order_by(Series.key)
                .limit(50)
            )
        ).all()
    if len(rows) == 1:
        return str(rows[0].key)
    if rows:
        raise AmbiguousSeriesError(ref, [(r.key, r.name) for r in rows])
    raise NotFoundError(f"no series {ref[:200]!r}; `showkeeper series ls` lists them")


EpisodeState = Literal[
    "on_disk",
    "downloading",
    "queued",
    "ignored",
    "failed",
    "missing",
    "filtered",
    "unmonitored",
    "upcoming",
]
"""What a user sees of an episode, first match wins: on disk; a download under way (queued,
downloading); ignored (removed by retention or by hand, until unignored); its last download
failed (with the reason); missing (series.missing); kept out by the series' filters; not
monitored; not aired yet."""


def episode_state(
    ep: Any,
    *,
    series_monitored: bool,
    missing: bool,
    queue: tuple[str, str | None] | None,
    today: date,
) -> tuple[EpisodeState, str | None]:
    """The state of one episode (an Episode or a row of its columns) and, for a failed one,
    the reason."""
    if ep.is_downloaded:
        return "on_disk", None
    if queue is not None and queue[0] in ("queued", "downloading"):
        return ("downloading" if queue[0] == "downloading" else "queued"), None
    if ep.ignored:
        return "ignored", None
    if queue is not None and queue[0] == "failed":
        return "failed", queue[1]
    if missing:
        return "missing", None
    if ep.filtered:
        return "filtered", None
    if not (series_monitored and ep.monitored):
        return "unmonitored", None
    if ep.air_date is not None and ep.air_date > today:
        return "upcoming", None
    return "unmonitored", None  # only on disk before, or no longer at the source


# the columns a page shows (candidates, the largest, stay in the database)
_EPISODE_FIELDS = (
    "id", "season", "episode", "absolute_number", "title", "air_date", "duration_s",
    "at_source", "monitored", "filtered", "ignored", "is_downloaded", "file_path", "size",
)  # fmt: skip
_EPISODE_COLUMNS = [Episode.__table__.c[name] for name in _EPISODE_FIELDS]


async def get_series(db: Database, key: str) -> dict[str, Any]:
    """A series with its counts and its episodes (season, episode order), each with its
    state (:func:`episode_state`)."""
    today = today_utc()
    async with db.session() as s:
        series = await find_series(s, key)
        episodes = list(
            (
                await s.execute(
                    select(*_EPISODE_COLUMNS)
                    .where(Episode.series_id == series.id)
                    .order_by(Episode.season, Episode.episode)
                )
            ).all()
        )
        missing_ids = set(
            (
                await s.execute(
                    select(Episode.id)
                    .join(Series, Series.id == Episode.series_id)
                    .where(Episode.series_id == series.id, is_missing(today))
                )
            ).scalars()
        )
        latest: dict[int, tuple[str, str | None]] = {}
        rows = await s.execute(
            select(QueueItem.episode_id, QueueItem.status, QueueItem.last_error)
            .join(Episode, Episode.id == QueueItem.episode_id)
            .where(Episode.series_id == series.id)
            .order_by(QueueItem.id)
        )
        for episode_id, status, error in rows:
            latest[episode_id] = (status, error)  # the newest row of each episode wins
    downloaded = sum(1 for e in episodes if e.is_downloaded)
    out = series_dict(series, len(episodes), downloaded, len(missing_ids))
    out["episodes"] = []
    for ep in episodes:
        state, reason = episode_state(
            ep,
            series_monitored=series.monitored,
            missing=ep.id in missing_ids,
            queue=latest.get(ep.id),
            today=today,
        )
        out["episodes"].append({**episode_dict(ep), "state": state, "state_reason": reason})
    return out


async def update_series(
    db: Database, key: str, *, monitored: bool | None, options: dict[str, Any] | None
) -> dict[str, Any]:
    """Set monitored and/or merge options (a null option removes it). Raises ShowkeeperError."""
    async with db.write() as s:
        series = await find_series(s, key)
        if options is not None:
            merged = {**(series.options or {}), **options}
            merged = {k: v for k, v in merged.items() if v is not None}
            series.options = validate_options(merged)
            await refilter(s, series.id, series_filter(series.options))
        if monitored is not None:
            series.monitored = monitored
        real_key = series.key
    return await get_series(db, real_key)


async def delete_series(db: Database, key: str, *, library_dir: Path | None, files: bool) -> bool:
    """Remove a series (episodes and queue rows go with it); with files, its folder too.

    The folder is first renamed aside inside the library (atomic), the rows are deleted,
    then the renamed folder is removed; if the rows cannot be deleted it is renamed back.

    Returns:
        True when files were deleted.

    Raises:
        NotFoundError, ShowkeeperError: unknown series; no library folder; unsafe path.
    """
    async with db.session() as s:
        series = await find_series(s, key)
        series_id, folder = series.id, series.folder
    trash: Path | None = None
    if files:
        if library_dir is None:
            raise ShowkeeperError("no library folder is set, so there are no files to delete")
        try:
            target = ensure_inside(library_dir, folder)
        except UnsafePathError as exc:
            raise ShowkeeperError(f"not deleting files: {exc}") from None
        if target.is_dir():
            trash = target.with_name(f".deleting-{series_id}-{target.name}")
            await asyncio.to_thread(os.replace, target, trash)
    try:
        async with db.write() as s:
            await s.execute(delete(Episode).where(Episode.series_id == series_id))
            await s.execute(delete(Series).where(Series.id == series_id))
    except BaseException:
        if trash is not None:
            await asyncio.to_thread(os.replace, trash, trash.with_name(folder))
        raise
    if trash is not None:
        await asyncio.to_thread(shutil.rmtree, trash, True)
    return trash is not None


async def edit_monitoring(
    db: Database,
    series_id: int,
    *,
    monitored: bool | None = None,
    seasons: dict[int, bool] | None = None,
    tag_ids: list[int] | None = None,
) -> None:
    """Set a series' monitored flag, its seasons' (every episode of a season) and its tags,
    in one transaction.

    Raises:
        NotFoundError: no such series, or an unknown tag id (nothing changes then).
    """
    async with db.write() as s:
        series = await s.get(Series, series_id)
        if series is None:
            raise NotFoundError(f"no series with id {series_id}")
        if tag_ids is not None:
            await set_series_tags(s, series_id, tag_ids)
        if monitored is not None:
            series.monitored = monitored
        for season, on in (seasons or {}).items():
            await s.execute(
                update(Episode)
                .where(
                    Episode.series_id == series_id,
                    Episode.season == season,
                    Episode.monitored.is_not(on),
                )
                .values(monitored=on)
            )
