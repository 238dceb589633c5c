"""Database set-up and read-back for library tests (real SQLite/PostgreSQL, real ORM)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from showkeeper.db import Database
from showkeeper.db.models import Episode, Series


@dataclass(frozen=True)
class Ep:
    season: int
    episode: int
    air_date: date | None = None
    absolute: int | None = None
    monitored: bool = True
    at_source: bool = True


async def add_series(
    db: Database, key: str, folder: str, episodes: Iterable[Ep] = (), *, monitored: bool = True
) -> int:
    async with db.write() as s:
        series = Series(
            key=key, folder=folder, name=folder, source_kind="feed", monitored=monitored
        )
        s.add(series)
        await s.flush()
        for ep in episodes:
            s.add(
                Episode(
                    series_id=series.id,
                    season=ep.season,
                    episode=ep.episode,
                    air_date=ep.air_date,
                    absolute_number=ep.absolute,
                    monitored=ep.monitored,
                    at_source=ep.at_source,
                    remote_id=f"{key}-{ep.season}-{ep.episode}" if ep.at_source else None,
                    title=f"Episode {ep.episode}",
                )
            )
        return series.id


async def episodes(db: Database) -> dict[tuple[str, int, int], dict[str, Any]]:
    """Every episode by (series key, season, episode)."""
    async with db.session() as s:
        rows = await s.execute(
            select(Series.key, Episode).join(Series, Series.id == Episode.series_id)
        )
        return {
            (key, ep.season, ep.episode): {
                "id": ep.id,
                "downloaded": ep.is_downloaded,
                "path": ep.file_path,
                "size": ep.size,
                "at_source": ep.at_source,
            }
            for key, ep in rows
        }


async def on_disk(db: Database) -> dict[tuple[str, int, int], str | None]:
    """Downloaded episodes -> their file path."""
    return {k: v["path"] for k, v in (await episodes(db)).items() if v["downloaded"]}


async def series_rows(db: Database) -> dict[str, Series]:
    async with db.session() as s:
        return {row.key: row for row in (await s.execute(select(Series))).scalars()}
