"""A series with downloaded episodes: rows in the real database, files in the library."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from showkeeper.db import Database
from showkeeper.db.models import Episode, Series


async def seed_series(
    db: Database,
    library: Path,
    *,
    key: str = "example-com-dark",
    folder: str = "Dark (2017)",
    name: str = "Dark",
    episodes: tuple[tuple[int, int], ...] = ((1, 1), (1, 2)),
    on_disk: bool = True,
) -> dict[tuple[int, int], tuple[int, str]]:
    """Returns (season, episode) -> (episode id, file_path relative to the library)."""
    out: dict[tuple[int, int], tuple[int, str]] = {}
    async with db.write() as s:
        series = Series(key=key, folder=folder, name=name, year=2017, source_kind="feed")
        s.add(series)
        await s.flush()
        rows = []
        for season, number in episodes:
            rel = f"{folder}/Season {season:02d}/{name} - S{season:02d}E{number:02d}.mp4"
            ep = Episode(
                series_id=series.id,
                season=season,
                episode=number,
                title=f"Part {number}",
                air_date=date(2017, 12, number),
                duration_s=3000,
                is_downloaded=True,
                file_path=rel,
                size=4,
            )
            s.add(ep)
            rows.append((season, number, ep, rel))
        await s.flush()
        for season, number, ep, rel in rows:
            out[(season, number)] = (ep.id, rel)
            if on_disk:
                video = library / rel
                video.parent.mkdir(parents=True, exist_ok=True)
                video.write_bytes(b"\x00\x00\x00\x18")
    return out
