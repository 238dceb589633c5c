"""Storing what sources list: episodes upserted in bulk, series status and state.

Episodes are upserted by (series_id, season, episode); the library's columns
(is_downloaded, file_path, size) and the user's ``monitored`` are never touched. Episodes
the series' filters reject are stored too, marked ``filtered`` (so a filter change never
renumbers anything), and are never reported as added.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from showkeeper.db.models import Episode, Series
from showkeeper.domain.candidates import Candidate
from showkeeper.domain.filters import EpisodeFilter
from showkeeper.sources.base import RemoteEpisode
from showkeeper.sources.numbering import Key, assign_numbers

UPSERT_CHUNK = 2000
_UPDATED_COLUMNS = (
    "absolute_number",
    "title",
    "air_date",
    "duration_s",
    "remote_id",
    "candidates",
    "at_source",
    "filtered",
    "updated_at",
)


@dataclass(slots=True)
class StoredEpisodes:
    """What one series already has in the database, as numbering and diffing need it."""

    known: dict[str, Key] = field(default_factory=dict)
    """remote_id -> (season, episode) of rows that came from the source."""
    at_source: set[Key] = field(default_factory=set)
    ids_by_remote: dict[str, list[tuple[int, Key]]] = field(default_factory=dict)


async def stored_episodes(
    session: AsyncSession, series_ids: Sequence[int]
) -> dict[int, StoredEpisodes]:
    """The stored episodes of several series, in one query."""
    out: dict[int, StoredEpisodes] = defaultdict(StoredEpisodes)
    if not series_ids:
        return out
    rows = await session.execute(
        select(
            Episode.series_id,
            Episode.id,
            Episode.season,
            Episode.episode,
            Episode.remote_id,
            Episode.at_source,
        ).where(Episode.series_id.in_(series_ids))
    )
    for series_id, episode_id, season, number, remote_id, at_source in rows:
        stored = out[series_id]
        key = (season, number)
        if at_source:
            stored.at_source.add(key)
        if remote_id is not None:
            stored.known.setdefault(remote_id, key)
            stored.ids_by_remote.setdefault(remote_id, []).append((episode_id, key))
    return out


@cache
def _upsert_statement(dialect: str) -> Any:
    """INSERT ... ON CONFLICT (series_id, season, episode) DO UPDATE, built once per dialect."""
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt: Any = insert(Episode)
    return stmt.on_conflict_do_update(
        index_elements=["series_id", "season", "episode"],
        set_={name: stmt.excluded[name] for name in _UPDATED_COLUMNS},
    )


def _candidate_dict(c: Candidate) -> dict[str, Any]:
    # Candidate.to_dict() is dataclasses.asdict (a deep copy): too slow for 10^5 episodes.
    return {
        "url": c.url,
        "kind": c.kind,
        "quality": c.quality,
        "mime": c.mime,
        "size": c.size,
        "headers": dict(c.headers),
    }


def _row(series_id: int, ep: RemoteEpisode, now: datetime, *, filtered: bool) -> dict[str, Any]:
    return {
        "series_id": series_id,
        "season": ep.season,
        "episode": ep.episode,
        "absolute_number": ep.absolute_number,
        "title": ep.title,
        "air_date": ep.air_date,
        "duration_s": ep.duration_s,
        "remote_id": ep.remote_id,
        "candidates": [_candidate_dict(c) for c in ep.candidates],
        "at_source": True,
        "monitored": True,
        "filtered": filtered,
        "is_downloaded": False,
        "created_at": now,
        "updated_at": now,
    }


async def upsert_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT (series_id, season, episode) DO UPDATE, as one executemany.

    One statement (compiled once, cached) with a parameter list: the driver batches it
    (SQLAlchemy's insertmanyvalues), so thousands of rows cost a few round trips.
    """
    if not rows:
        return
    stmt = _upsert_statement(session.get_bind().dialect.name)
    for start in range(0, len(rows), UPSERT_CHUNK):
        await session.execute(stmt, rows[start : start + UPSERT_CHUNK])


@dataclass(slots=True)
class ListingPlan:
    """The rows to write for one series' listing, and what is new in it."""

    rows: list[dict[str, Any]]
    added: list[RemoteEpisode]
    stale_ids: list[int]


def plan_listing(
    series_id: int,
    episodes: list[RemoteEpisode],
    stored: StoredEpisodes,
    now: datetime,
    *,
    rules: EpisodeFilter | None = None,
) -> ListingPlan:
    """Number the listing (stable by remote_id), mark what ``rules`` reject, and diff it
    with what is stored."""
    accepts = rules.accepts if rules is not None and not rules.is_empty else None
    occupied: Iterable[Key] = stored.known.values()
    numbered = assign_numbers(episodes, stored.known, occupied)
    rows: list[dict[str, Any]] = []
    added: list[RemoteEpisode] = []
    stale: list[int] = []
    seen: set[Key] = set()
    for ep in numbered:
        key = (ep.season, ep.episode or 0)
        if key in seen:  # the numbering never repeats a key; this guards plugins' numbers
            continue
        seen.add(key)
        filtered = accepts is not None and not accepts(ep.title, ep.air_date, ep.duration_s)
        rows.append(_row(series_id, ep, now, filtered=filtered))
        if key not in stored.at_source and not filtered:
            added.append(ep)
        # the same remote id stored under another number (the source renumbered it)
        stale.extend(i for i, k in stored.ids_by_remote.get(ep.remote_id, []) if k != key)
    return ListingPlan(rows=rows, added=added, stale_ids=stale)


async def write_listing(session: AsyncSession, *plans: ListingPlan) -> None:
    """Write planned listings (of one or many series) with as few statements as possible."""
    stale = [i for plan in plans for i in plan.stale_ids]
    if stale:
        await session.execute(
            update(Episode)
            .where(Episode.id.in_(stale))
            .values(remote_id=None, at_source=False, updated_at=datetime.now(UTC))
        )
    await upsert_rows(session, [row for plan in plans for row in plan.rows])


async def refilter(session: AsyncSession, series_id: int, rules: EpisodeFilter) -> int:
    """Mark the series' stored episodes by new filters at once (no refresh needed).

    Returns:
        How many episodes changed.
    """
    rows = await session.execute(
        select(
            Episode.id, Episode.title, Episode.air_date, Episode.duration_s, Episode.filtered
        ).where(Episode.series_id == series_id)
    )
    flips: dict[bool, list[int]] = {True: [], False: []}
    for episode_id, title, air_date, duration_s, was in rows:
        now_filtered = not rules.is_empty and not rules.accepts(title, air_date, duration_s)
        if now_filtered != was:
            flips[now_filtered].append(episode_id)
    for value, ids in flips.items():
        for start in range(0, len(ids), UPSERT_CHUNK):
            await session.execute(
                update(Episode)
                .where(Episode.id.in_(ids[start : start + UPSERT_CHUNK]))
                .values(filtered=value)
            )
    return len(flips[True]) + len(flips[False])


async def episode_count(session: AsyncSession, series_id: int) -> int:
    from sqlalchemy import func

    count = await session.scalar(
        select(func.count()).select_from(Episode).where(Episode.series_id == series_id)
    )
    return int(count or 0)


async def series_row(session: AsyncSession, key: str) -> Series | None:
    result: Series | None = await session.scalar(select(Series).where(Series.key == key))
    return result
