"""Episodes by series, by id and by air date; monitoring edits; removing an episode's file."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select, update

from showkeeper.db import Database
from showkeeper.db.models import Episode, Series
from showkeeper.domain.paths import UnsafePathError, ensure_inside
from showkeeper.errors import NotFoundError, ShowkeeperError

MAX_IDS = 10_000


async def series_key(db: Database, series_id: int) -> str:
    """The key of the series with this id. Raises NotFoundError."""
    async with db.session() as s:
        key = await s.scalar(select(Series.key).where(Series.id == series_id))
    if key is None:
        raise NotFoundError(f"no series with id {series_id}")
    return str(key)


async def series_episodes(
    db: Database, series_id: int, *, season: int | None = None, downloaded: bool | None = None
) -> list[Episode]:
    """A series' episodes in season/episode order. Raises NotFoundError."""
    query = select(Episode).where(Episode.series_id == series_id)
    if season is not None:
        query = query.where(Episode.season == season)
    if downloaded is not None:
        query = query.where(Episode.is_downloaded.is_(downloaded))
    async with db.session() as s:
        if await s.scalar(select(Series.id).where(Series.id == series_id)) is None:
            raise NotFoundError(f"no series with id {series_id}")
        return list((await s.execute(query.order_by(Episode.season, Episode.episode))).scalars())


async def episodes_by_ids(db: Database, ids: Sequence[int]) -> list[Episode]:
    """The episodes with these ids that exist, in id order (at most MAX_IDS ids)."""
    wanted = sorted(set(ids))[:MAX_IDS]
    out: list[Episode] = []
    async with db.session() as s:
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start : start + 1000]
            out.extend((await s.execute(select(Episode).where(Episode.id.in_(chunk)))).scalars())
    return sorted(out, key=lambda e: e.id)


async def get_episode(db: Database, episode_id: int) -> Episode:
    """Raises NotFoundError."""
    async with db.session() as s:
        found = await s.get(Episode, episode_id)
    if found is None:
        raise NotFoundError(f"no episode with id {episode_id}")
    return found


async def episodes_between(
    db: Database, start: date, end: date, *, unmonitored: bool = False
) -> list[Episode]:
    """Episodes that air between start and end (inclusive), by air date; only monitored ones
    (episode and series) unless ``unmonitored``; filtered episodes never."""
    query = (
        select(Episode)
        .join(Series, Series.id == Episode.series_id)
        .where(Episode.air_date >= start, Episode.air_date <= end, Episode.filtered.is_(False))
        .order_by(Episode.air_date, Episode.series_id, Episode.season, Episode.episode)
    )
    if not unmonitored:
        query = query.where(Episode.monitored.is_(True), Series.monitored.is_(True))
    async with db.session() as s:
        return list((await s.execute(query)).scalars())


async def set_episodes_monitored(
    db: Database, ids: Sequence[int], monitored: bool
) -> list[Episode]:
    """Monitor or unmonitor episodes; returns them. Raises NotFoundError for an unknown id
    (then nothing changes)."""
    wanted = sorted(set(ids))
    if not wanted:
        raise ShowkeeperError("no episode ids given")
    if len(wanted) > MAX_IDS:
        raise ShowkeeperError(f"at most {MAX_IDS} episodes per call")
    async with db.write() as s:
        known: set[int] = set()
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start : start + 1000]
            known.update(
                (await s.execute(select(Episode.id).where(Episode.id.in_(chunk)))).scalars()
            )
        unknown = [i for i in wanted if i not in known]
        if unknown:
            raise NotFoundError(f"no episode with id {', '.join(map(str, unknown[:5]))}")
        for start in range(0, len(wanted), 1000):
            await s.execute(
                update(Episode)
                .where(Episode.id.in_(wanted[start : start + 1000]))
                .values(monitored=monitored, updated_at=datetime.now(UTC))
            )
    return await episodes_by_ids(db, wanted)


async def delete_episode_file(db: Database, episode_id: int, *, library_dir: Path | None) -> str:
    """Delete a downloaded episode's file (inside the library only) and mark it not on disk.

    Returns the relative path that was removed.

    Raises:
        NotFoundError: no such episode, or it has no file.
        ShowkeeperError: no library folder, or the stored path leaves it.
    """
    episode = await get_episode(db, episode_id)
    if not episode.is_downloaded or not episode.file_path:
        raise NotFoundError(f"episode {episode_id} has no file")
    if library_dir is None:
        raise ShowkeeperError("no library folder is set, so there is no file to delete")
    try:
        target = ensure_inside(library_dir, episode.file_path)
    except UnsafePathError as exc:
        raise ShowkeeperError(f"not deleting the file: {exc}") from None
    async with db.write() as s:
        await s.execute(
            update(Episode)
            .where(Episode.id == episode_id)
            .values(is_downloaded=False, file_path=None, size=None, updated_at=datetime.now(UTC))
        )
    with contextlib.suppress(FileNotFoundError):
        await asyncio.to_thread(os.unlink, target)
    return episode.file_path


async def series_folders(db: Database, series_ids: Sequence[int]) -> dict[int, str]:
    """Folder name per series id (those that exist)."""
    ids = sorted(set(series_ids))
    if not ids:
        return {}
    async with db.session() as s:
        rows = await s.execute(select(Series.id, Series.folder).where(Series.id.in_(ids)))
        return {sid: folder for sid, folder in rows}


async def series_names(db: Database, series_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """(key, name) per series id (those that exist)."""
    ids = sorted(set(series_ids))
    if not ids:
        return {}
    async with db.session() as s:
        rows = await s.execute(select(Series.id, Series.key, Series.name).where(Series.id.in_(ids)))
        return {sid: (key, name) for sid, key, name in rows}


async def episodes_exist(db: Database, ids: Sequence[int]) -> None:
    """Raises NotFoundError naming the first ids that are no episode."""
    wanted = sorted(set(ids))
    found = {e.id for e in await episodes_by_ids(db, wanted)}
    unknown = [i for i in wanted if i not in found]
    if unknown:
        shown = ", ".join(map(str, unknown[:5])) + (" ..." if len(unknown) > 5 else "")
        raise NotFoundError(f"no episode with id {shown}")
