"""Write NFOs into the library: one series on demand, all series on repair, one episode
after its download (hook.py).

Targets are built in the event loop, then checked and written in one worker thread: every
path goes through ensure_inside (no NFO outside the library root, symlinks included), every
write is atomic. An existing NFO we did not write is left alone unless ``overwrite``; one of
ours is rewritten when its content changed (``refresh``) or only when broken (``repair``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from sqlalchemy import func, select

from showkeeper.config_store import atomic_write_bytes
from showkeeper.db import Database
from showkeeper.db.models import Episode, Series
from showkeeper.domain.paths import UnsafePathError, ensure_inside
from showkeeper.errors import NotFoundError
from showkeeper.logging import get_logger
from showkeeper.metadata.nfo import (
    MAX_NFO_BYTES,
    NfoError,
    episode_nfo,
    is_ours,
    parse_nfo,
    read_nfo,
    tvshow_nfo,
)

log = get_logger(__name__)
TVSHOW_NFO = "tvshow.nfo"
MAX_MESSAGES = 20
Mode = Literal["refresh", "repair"]


@dataclass
class NfoResult:
    """Counts of one run; ``messages`` holds the first errors, one line each."""

    written: int = 0
    skipped: int = 0
    errors: int = 0
    messages: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "skipped": self.skipped,
            "errors": self.errors,
            "messages": self.messages,
        }


@dataclass(frozen=True, slots=True)
class _Target:
    rel: str  # the NFO, relative to the library root
    needs: str  # what must exist first: the series folder or the video file
    data: bytes
    mode: Mode
    overwrite: bool


def episode_nfo_path(file_path: str) -> str:
    """``Show/Season 01/Show - S01E01.mkv`` -> ``Show/Season 01/Show - S01E01.nfo``."""
    return str(PurePosixPath(file_path).with_suffix(".nfo"))


def _tvshow_target(series: Series, premiered: date | None, mode: Mode, ow: bool) -> _Target:
    rel = str(PurePosixPath(series.folder) / TVSHOW_NFO)
    return _Target(rel, series.folder, tvshow_nfo(series, premiered=premiered), mode, ow)


def _episode_target(series: Series, episode: Episode, mode: Mode, ow: bool) -> _Target | None:
    if not episode.file_path or episode.file_path.lower().endswith(".nfo"):
        return None
    rel = episode_nfo_path(episode.file_path)
    return _Target(rel, episode.file_path, episode_nfo(series, episode), mode, ow)


def _read_existing(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read(MAX_NFO_BYTES + 1)
    except FileNotFoundError:
        return None


def _is_valid(content: bytes) -> bool:
    try:
        parse_nfo(content)
    except NfoError:
        return False
    return True


def _apply_one(root: Path, target: _Target) -> bool:
    """Write one target if the rules allow; True if written. Raises on unsafe paths/IO."""
    if not ensure_inside(root, target.needs).exists():
        return False  # no folder or video (yet): nothing to describe
    path = ensure_inside(root, target.rel)
    existing = _read_existing(path)
    if existing is not None:
        if not is_ours(existing):
            if not target.overwrite:
                return False
        elif existing == target.data or (target.mode == "repair" and _is_valid(existing)):
            return False
    atomic_write_bytes(path, target.data)
    return True


def _apply(root: Path, targets: Sequence[_Target]) -> NfoResult:
    result = NfoResult()
    for target in targets:
        try:
            written = _apply_one(root, target)
        except (UnsafePathError, OSError) as exc:
            result.errors += 1
            log.warning("NFO not written", path=target.rel[:300], error=str(exc))
            if len(result.messages) < MAX_MESSAGES:
                result.messages.append(f"{target.rel[:200]}: {exc}")
            continue
        if written:
            result.written += 1
        else:
            result.skipped += 1
    return result


async def _series(db: Database, key: str) -> Series:
    async with db.session() as s:
        series = await s.scalar(select(Series).where(Series.key == key))
    if series is None:
        raise NotFoundError(f"series {key[:200]!r} not found; list series with GET /api/series")
    return series


async def _premiered(db: Database, series_ids: Sequence[int] | None) -> dict[int, date]:
    stmt = select(Episode.series_id, func.min(Episode.air_date)).group_by(Episode.series_id)
    if series_ids is not None:
        stmt = stmt.where(Episode.series_id.in_(series_ids))
    async with db.session() as s:
        return {sid: first for sid, first in (await s.execute(stmt)).all() if first}


async def _downloaded(db: Database, series_id: int | None = None) -> list[Episode]:
    stmt = select(Episode).where(Episode.is_downloaded.is_(True), Episode.file_path.is_not(None))
    if series_id is not None:
        stmt = stmt.where(Episode.series_id == series_id)
    async with db.session() as s:
        return list((await s.scalars(stmt.order_by(Episode.season, Episode.episode))).all())


async def write_series_nfos(
    db: Database, library_dir: Path, series_key: str, *, overwrite: bool = False
) -> NfoResult:
    """Write (or refresh) a series' tvshow.nfo and an NFO beside each downloaded episode.

    Args:
        overwrite: also replace NFOs that another tool or a person wrote.

    Raises:
        NotFoundError: no series has this key.
    """
    series = await _series(db, series_key)
    premiered = (await _premiered(db, [series.id])).get(series.id)
    targets = [_tvshow_target(series, premiered, "refresh", overwrite)]
    for ep in await _downloaded(db, series.id):
        target = _episode_target(series, ep, "refresh", overwrite)
        if target is not None:
            targets.append(target)
    return await asyncio.to_thread(_apply, library_dir, targets)


async def repair_nfos(db: Database, library_dir: Path) -> NfoResult:
    """For every series: create missing NFOs and rewrite ours that are not valid XML."""
    async with db.session() as s:
        all_series = {row.id: row for row in (await s.scalars(select(Series))).all()}
    premiered = await _premiered(db, None)
    targets = [
        _tvshow_target(sr, premiered.get(sid), "repair", False) for sid, sr in all_series.items()
    ]
    for ep in await _downloaded(db):
        target = _episode_target(all_series[ep.series_id], ep, "repair", False)
        if target is not None:
            targets.append(target)
    return await asyncio.to_thread(_apply, library_dir, targets)


async def write_episode_nfo(db: Database, library_dir: Path, episode_id: int) -> NfoResult:
    """After a download: the episode's NFO (refreshed if ours), and tvshow.nfo if missing."""
    async with db.session() as s:
        row = (
            await s.execute(
                select(Episode, Series)
                .join(Series, Series.id == Episode.series_id)
                .where(Episode.id == episode_id)
            )
        ).one_or_none()
    if row is None:
        raise NotFoundError(f"episode {episode_id} not found")
    episode, series = row
    premiered = (await _premiered(db, [series.id])).get(series.id)
    targets = [_tvshow_target(series, premiered, "repair", False)]
    target = _episode_target(series, episode, "refresh", False) if episode.is_downloaded else None
    if target is not None:
        targets.append(target)
    return await asyncio.to_thread(_apply, library_dir, targets)


def _status(root: Path, series: Series, episodes: Sequence[Episode]) -> dict[str, Any]:
    out: dict[str, Any] = {"tvshow": None, "tvshow_error": None, "episodes": []}
    try:
        out["tvshow"] = read_nfo(ensure_inside(root, PurePosixPath(series.folder) / TVSHOW_NFO))
    except FileNotFoundError:
        pass
    except (NfoError, UnsafePathError, OSError) as exc:
        out["tvshow_error"] = str(exc)
    for ep in episodes:
        has_nfo = False
        if ep.file_path:
            try:
                has_nfo = ensure_inside(root, episode_nfo_path(ep.file_path)).is_file()
            except (UnsafePathError, OSError):
                has_nfo = False
        out["episodes"].append(
            {
                "episode_id": ep.id,
                "season": ep.season,
                "episode": ep.episode,
                "file_path": ep.file_path,
                "nfo": has_nfo,
            }
        )
    return out


async def nfo_status(db: Database, library_dir: Path, series_key: str) -> dict[str, Any]:
    """The parsed tvshow.nfo of a series and which downloaded episodes have an NFO.

    Raises:
        NotFoundError: no series has this key.
    """
    series = await _series(db, series_key)
    episodes = await _downloaded(db, series.id)
    status = await asyncio.to_thread(_status, library_dir, series, episodes)
    return {"series_key": series.key, "folder": series.folder, **status}
