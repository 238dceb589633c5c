"""How queue items end: complete, fail (with retry backoff), cancel, remove, retry, clear.

Import these through :mod:`showkeeper.downloads.queue`. A worker finishes only items it
still holds (``status='downloading' AND lease_owner=owner``, rows locked on PostgreSQL),
so a cancel that got there first always wins. Every finished item gets a DownloadHistory row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, NamedTuple

from sqlalchemy import bindparam, delete, exists, func, insert, literal, null, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from showkeeper.db import Database
from showkeeper.domain.queue_rules import ACTIVE, CLEARABLE, after_failure, retry_delay_s
from showkeeper.downloads.tables import (
    EPISODES,
    HISTORY,
    QUEUE,
    SERIES,
    chunks,
    db_value,
    history_from_queue,
    id_in,
    is_active,
    is_postgres,
    one_line,
    touch_hosts,
    utc_now,
)
from showkeeper.errors import NotFoundError


@dataclass(frozen=True, slots=True)
class Completion:
    """A finished transfer, to be recorded by :func:`complete_batch`."""

    item_id: int
    file_path: str
    size: int
    candidate_url: str | None = None


@dataclass(frozen=True, slots=True)
class FailResult:
    """What a failed attempt led to.

    outcome: "retry" (queued again at ``next_attempt_at``), "failed" (for good) or "lost"
    (the worker no longer held the item: it was cancelled or reclaimed; nothing changed).
    """

    outcome: Literal["retry", "failed", "lost"]
    attempts: int = 0
    next_attempt_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CancelResult:
    """previous: the status the item had; ``cancelled`` is True if this call cancelled it."""

    item_id: int
    episode_id: int
    previous: str
    cancelled: bool


class _Held(NamedTuple):
    episode_id: int
    attempts: int
    max_attempts: int
    source_host: str | None


async def _held(s: AsyncSession, item_ids: Sequence[int], owner: str) -> dict[int, _Held]:
    """The items ``owner`` still holds, locked until the transaction ends (PostgreSQL)."""
    out: dict[int, _Held] = {}
    for chunk in chunks(list(item_ids)):
        rows = await s.execute(
            select(
                QUEUE.c.id,
                QUEUE.c.episode_id,
                QUEUE.c.attempts,
                QUEUE.c.max_attempts,
                QUEUE.c.source_host,
            )
            .where(
                id_in(QUEUE.c.id, chunk, postgres=is_postgres(s)),
                QUEUE.c.status == "downloading",
                QUEUE.c.lease_owner == owner,
            )
            .with_for_update()
        )
        for row in rows:
            out[row.id] = _Held(row.episode_id, row.attempts, row.max_attempts, row.source_host)
    return out


# A worker completes one item per transaction (``complete``). Its statements are built once
# here with bound parameters: building, cache-keying and compiling the batch statements
# below took about two thirds of a completion's time (bench/queue.py, profiled).
_NOW = bindparam("b_now", type_=QUEUE.c.updated_at.type)
_COMPLETE_ITEM = (
    update(QUEUE)
    .where(
        QUEUE.c.id == bindparam("b_item"),
        QUEUE.c.status == "downloading",
        QUEUE.c.lease_owner == bindparam("b_owner"),
    )
    .values(
        status="completed",
        finished_at=_NOW,
        updated_at=_NOW,
        lease_owner=None,
        lease_expires_at=None,
        next_attempt_at=None,
        last_error=None,
    )
    .returning(QUEUE.c.episode_id, QUEUE.c.source_host)
)
_COMPLETE_EPISODE = (
    update(EPISODES)
    .where(EPISODES.c.id == bindparam("b_episode"))
    .values(
        file_path=bindparam("b_path", type_=EPISODES.c.file_path.type),
        size=bindparam("b_size", type_=EPISODES.c.size.type),
        is_downloaded=True,
        updated_at=bindparam("b_now", type_=EPISODES.c.updated_at.type),
    )
)
# The row history_from_queue writes for a completed item (attempts_offset=1).
_COMPLETED_HISTORY = insert(HISTORY).from_select(
    [
        "episode_id",
        "series_key",
        "season",
        "episode",
        "status",
        "file_path",
        "size",
        "candidate_url",
        "error",
        "attempts",
        "started_at",
        "finished_at",
    ],
    select(
        QUEUE.c.episode_id,
        SERIES.c.key,
        EPISODES.c.season,
        EPISODES.c.episode,
        literal("completed"),
        EPISODES.c.file_path,
        EPISODES.c.size,
        bindparam("b_url", type_=HISTORY.c.candidate_url.type),
        null(),
        QUEUE.c.attempts + 1,
        QUEUE.c.started_at,
        bindparam("b_now", type_=HISTORY.c.finished_at.type),
    )
    .select_from(
        QUEUE.join(EPISODES, EPISODES.c.id == QUEUE.c.episode_id).join(
            SERIES, SERIES.c.id == EPISODES.c.series_id
        )
    )
    .where(QUEUE.c.id == bindparam("b_item")),
)


async def _complete_one(
    db: Database, done: Completion, *, owner: str, track_hosts: bool, now: datetime
) -> list[int]:
    """:func:`complete_batch` for one item, with the statements built once."""
    async with db.write() as s:
        held = (
            await s.execute(
                _COMPLETE_ITEM, {"b_item": done.item_id, "b_owner": owner, "b_now": now}
            )
        ).one_or_none()
        if held is None:
            return []
        await s.execute(
            _COMPLETE_EPISODE,
            {
                "b_episode": held.episode_id,
                "b_path": done.file_path,
                "b_size": done.size,
                "b_now": now,
            },
        )
        await s.execute(
            _COMPLETED_HISTORY, {"b_item": done.item_id, "b_url": done.candidate_url, "b_now": now}
        )
        if track_hosts:
            await touch_hosts(s, [held.source_host], now)
    return [done.item_id]


async def complete_batch(
    db: Database,
    done: Sequence[Completion],
    *,
    owner: str,
    track_hosts: bool = False,
    now: datetime | None = None,
) -> list[int]:
    """Mark finished transfers completed, their episodes downloaded, and write history.

    Returns the item ids recorded; an item ``owner`` no longer holds (cancelled, reclaimed)
    is left untouched and not returned. The file's size is kept on the episode (the item's
    byte counters keep the last progress). ``track_hosts``: record when each host was last
    used (needed for a per-host delay).
    """
    if not done:
        return []
    now = utc_now(now)
    if len(done) == 1:
        return await _complete_one(db, done[0], owner=owner, track_hosts=track_hosts, now=now)
    async with db.write() as s:
        # The conditional UPDATE is the check: only items this owner still holds change.
        held: dict[int, tuple[int, str | None]] = {}
        for chunk in chunks(list(dict.fromkeys(d.item_id for d in done))):
            result = await s.execute(
                update(QUEUE)
                .where(
                    id_in(QUEUE.c.id, chunk, postgres=is_postgres(s)),
                    QUEUE.c.status == "downloading",
                    QUEUE.c.lease_owner == owner,
                )
                .values(
                    status="completed",
                    finished_at=now,
                    updated_at=now,
                    lease_owner=None,
                    lease_expires_at=None,
                    next_attempt_at=None,
                    last_error=None,
                )
                .returning(QUEUE.c.id, QUEUE.c.episode_id, QUEUE.c.source_host)
            )
            held.update((row.id, (row.episode_id, row.source_host)) for row in result)
        ok = [d for d in done if d.item_id in held]
        if not ok:
            return []
        episode_of = {d.item_id: held[d.item_id][0] for d in ok}
        # One executemany with plain values (shared ones converted once).
        stamp = db_value(s, EPISODES.c.updated_at, now)
        done_flag = db_value(s, EPISODES.c.is_downloaded, True)
        await s.execute(
            text(
                "UPDATE episodes SET file_path = :p, size = :n, is_downloaded = :d, "
                "updated_at = :t WHERE id = :i"
            ),
            [
                {
                    "p": d.file_path,
                    "n": d.size,
                    "d": done_flag,
                    "t": stamp,
                    "i": episode_of[d.item_id],
                }
                for d in ok
            ],
        )
        urls = {episode_of[d.item_id]: d.candidate_url for d in ok if d.candidate_url}
        await history_from_queue(
            s,
            [d.item_id for d in ok],
            status="completed",
            now=now,
            attempts_offset=1,
            candidate_urls=urls,
        )
        if track_hosts:
            await touch_hosts(s, (held[d.item_id][1] for d in ok), now)
    return [d.item_id for d in ok]


async def complete(
    db: Database,
    item_id: int,
    *,
    owner: str,
    file_path: str,
    size: int,
    candidate_url: str | None = None,
    track_hosts: bool = False,
    now: datetime | None = None,
) -> bool:
    """Record one finished transfer; False if ``owner`` no longer held the item."""
    done = Completion(item_id, file_path, size, candidate_url)
    return bool(await complete_batch(db, [done], owner=owner, track_hosts=track_hosts, now=now))


async def fail(
    db: Database,
    item_id: int,
    *,
    owner: str,
    error: str,
    permanent: bool = False,
    retry_base_s: float = 30.0,
    retry_cap_s: float = 3600.0,
    track_hosts: bool = False,
    not_before: datetime | None = None,
    now: datetime | None = None,
) -> FailResult:
    """Record a failed attempt: queued again after a backoff, or failed after max_attempts.

    Args:
        permanent: Fail for good now (disk full, unsafe path, no candidates): retrying
            would fail the same way.
        track_hosts: Record when the host was last used (needed for a per-host delay).
        not_before: The earliest next attempt (a host's Retry-After): the backoff is
            stretched to it, the attempt counts like any other.
    """
    now = utc_now(now)
    error = one_line(error)
    async with db.write() as s:
        held = await _held(s, [item_id], owner)
        if item_id not in held:
            return FailResult("lost")
        attempts = held[item_id].attempts + 1
        host = held[item_id].source_host
        outcome = "failed" if permanent else after_failure(attempts, held[item_id].max_attempts)
        base = update(QUEUE).where(QUEUE.c.id == item_id)
        cleared = {"lease_owner": None, "lease_expires_at": None, "updated_at": now}
        if outcome == "retry":
            wait = retry_delay_s(attempts, base_s=retry_base_s, cap_s=retry_cap_s)
            at = now + timedelta(seconds=wait)
            if not_before is not None and not_before > at:
                at = not_before
            await s.execute(
                base.values(
                    status="queued",
                    attempts=attempts,
                    next_attempt_at=at,
                    last_error=error,
                    **cleared,
                )
            )
            if track_hosts:
                await touch_hosts(s, [host], now)
            return FailResult("retry", attempts, at)
        await s.execute(
            base.values(
                status="failed",
                attempts=attempts,
                next_attempt_at=None,
                last_error=error,
                finished_at=now,
                **cleared,
            )
        )
        await history_from_queue(s, [item_id], status="failed", now=now, error=error)
        if track_hosts:
            await touch_hosts(s, [host], now)
    return FailResult("failed", attempts)


async def _cancel_in(s: AsyncSession, item_id: int, now: datetime) -> CancelResult:
    row = (
        await s.execute(
            select(QUEUE.c.status, QUEUE.c.episode_id, QUEUE.c.attempts, QUEUE.c.started_at)
            .where(QUEUE.c.id == item_id)
            .with_for_update()
        )
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"queue item {item_id} not found; see `showkeeper queue ls`")
    if row.status not in ACTIVE:
        return CancelResult(item_id, row.episode_id, row.status, cancelled=False)
    await s.execute(
        update(QUEUE)
        .where(QUEUE.c.id == item_id, QUEUE.c.status.in_(ACTIVE))
        .values(
            status="cancelled",
            finished_at=now,
            updated_at=now,
            lease_owner=None,
            lease_expires_at=None,
            next_attempt_at=None,
        )
    )
    await history_from_queue(s, [item_id], status="cancelled", now=now)
    return CancelResult(item_id, row.episode_id, row.status, cancelled=True)


async def cancel(db: Database, item_id: int, *, now: datetime | None = None) -> CancelResult:
    """Cancel a queued or downloading item; a finished one is left as it is.

    Raises:
        NotFoundError: no such item.
    """
    async with db.write() as s:
        return await _cancel_in(s, item_id, utc_now(now))


async def remove(
    db: Database, item_id: int, *, now: datetime | None = None
) -> tuple[Literal["cancelled", "removed"], CancelResult | None]:
    """Cancel the item if it is active, else delete its row.

    Raises:
        NotFoundError: no such item.
    """
    async with db.write() as s:
        result = await _cancel_in(s, item_id, utc_now(now))
        if result.cancelled:
            return "cancelled", result
        await s.execute(delete(QUEUE).where(QUEUE.c.id == item_id))
        return "removed", None


async def retry(
    db: Database, item_ids: Iterable[int] | None = None, *, now: datetime | None = None
) -> list[int]:
    """Queue failed items again with fresh attempts (all failed ones when ids is None).

    Only the newest failed item of an episode is retried, and only if the episode has no
    active item; returns the ids queued again.
    """
    now = utc_now(now)
    newer = QUEUE.alias("newer")
    other = QUEUE.alias("other")
    newest_failed = (
        select(func.max(newer.c.id))
        .where(newer.c.episode_id == QUEUE.c.episode_id, newer.c.status == "failed")
        .scalar_subquery()
    )
    has_active = exists().where(other.c.episode_id == QUEUE.c.episode_id, is_active(other))
    stmt = (
        update(QUEUE)
        .where(QUEUE.c.status == "failed", QUEUE.c.id == newest_failed, ~has_active)
        .values(
            status="queued",
            attempts=0,
            next_attempt_at=None,
            last_error=None,
            finished_at=None,
            updated_at=now,
        )
        .returning(QUEUE.c.id)
    )
    retried: list[int] = []
    async with db.write() as s:
        if item_ids is None:
            retried.extend((await s.execute(stmt)).scalars())
        else:
            for chunk in chunks(list(dict.fromkeys(item_ids))):
                in_chunk = id_in(QUEUE.c.id, chunk, postgres=is_postgres(s))
                retried.extend((await s.execute(stmt.where(in_chunk))).scalars())
    return sorted(retried)


async def clear_finished(db: Database) -> int:
    """Delete completed and cancelled items (their history rows stay); returns how many."""
    async with db.write() as s:
        result = await s.execute(
            delete(QUEUE).where(QUEUE.c.status.in_(CLEARABLE)).returning(QUEUE.c.id)
        )
        return len(result.all())
