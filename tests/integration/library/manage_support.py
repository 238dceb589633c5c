"""A library on disk for the rename, retention and import tests: real files, real rows."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select, update

from showkeeper.db import Database
from showkeeper.db.models import Episode, Series

COMPANIONS = (".nfo", "-thumb.jpg")


@dataclass(frozen=True)
class OnDisk:
    series_id: int
    episode_ids: list[int]
    files: list[str]  # relative video paths


def old_name(name: str, season: int, number: int) -> str:
    """How the files are named before a rename: no title (the default template has one)."""
    return f"{name} - S{season:02d}E{number:02d}.mkv"


async def downloaded_series(
    db: Database,
    root: Path,
    key: str,
    name: str,
    count: int,
    *,
    season: int = 1,
    first_aired: date | None = None,
    companions: bool = True,
    size: int = 100,
) -> OnDisk:
    """A series with ``count`` episodes, each a real file (with an NFO and a thumbnail)
    marked downloaded; episode n aired ``first_aired + n`` days."""
    first_aired = first_aired or date(2020, 1, 1)
    async with db.write() as s:
        series = Series(key=key, folder=name, name=name, source_kind="feed")
        s.add(series)
        await s.flush()
        eps = []
        for n in range(1, count + 1):
            rel = f"{name}/Season {season:02d}/{old_name(name, season, n)}"
            eps.append(
                Episode(
                    series_id=series.id,
                    season=season,
                    episode=n,
                    title=f"Episode {n}",
                    air_date=first_aired + timedelta(days=n),
                    remote_id=f"{key}-{n}",
                    is_downloaded=True,
                    file_path=rel,
                    size=size,
                    candidates=[],
                )
            )
        s.add_all(eps)
        await s.flush()
        ids = [e.id for e in eps]
        files = [str(e.file_path) for e in eps]
        series_id = series.id
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"v" * size)
        if companions:
            for suffix in COMPANIONS:
                path.with_name(path.stem + suffix).write_bytes(b"c")
    return OnDisk(series_id, ids, files)


def tree(root: Path) -> list[str]:
    """Every file below ``root``, relative, sorted."""
    out = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            out.append(os.path.relpath(os.path.join(folder, name), root))
    return sorted(out)


async def paths_of(db: Database, key: str) -> dict[int, str | None]:
    async with db.session() as s:
        rows = await s.execute(
            select(Episode.episode, Episode.file_path)
            .join(Series, Series.id == Episode.series_id)
            .where(Series.key == key)
        )
        return {episode: path for episode, path in rows}


async def folder_of(db: Database, key: str) -> str:
    async with db.session() as s:
        return str(await s.scalar(select(Series.folder).where(Series.key == key)))


async def set_episode(db: Database, episode_id: int, **values: object) -> None:
    async with db.write() as s:
        await s.execute(update(Episode).where(Episode.id == episode_id).values(**values))
