"""Claiming queue items: expired leases reclaimed, per-host limits, one conditional UPDATE.

Import through :mod:`showkeeper.downloads.queue`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from showkeeper.db import Database
from showkeeper.domain.queue_rules import HostBudget, closed_hosts, host_budget, pick_claims
from showkeeper.downloads.host_limits import read_overrides
from showkeeper.downloads.liveness import requeue_dead_workers
from showkeeper.downloads.politeness import settle_recovered
from showkeeper.downloads.tables import (
    HOSTS,
    QUEUE,
    chunks,
    id_in,
    lock_claims,
    read_throttles,
    touch_hosts,
    utc_now,
)
from showkeeper.logging import get_logger

log = get_logger(__name__)

DEFAULT_LEASE_S = 60.0


@dataclass(frozen=True, slots=True)
class Claim:
    """An item a worker now holds (status downloading, lease_owner = the worker)."""

    id: int
    episode_id: int
    attempts: int
    max_attempts: int
    source_host: str | None
    downloaded_bytes: int
    lease_expires_at: datetime
    host_delay_s: float = 0.0
    """The politeness delay of its host (global or the host's own): finishing records it."""


def _due(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    return and_(
        QUEUE.c.status == "queued",
        or_(QUEUE.c.next_attempt_at.is_(None), QUEUE.c.next_attempt_at <= now),
    )


def _expired(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    return and_(QUEUE.c.status == "downloading", QUEUE.c.lease_expires_at < now)


# A worker claims every time a transfer ends, so the statements of a claim are built once,
# with bound parameters: building and cache-keying them per call cost more than running them
# (bench/queue.py, profiled). ``_PAGE`` gets extra conditions only for the rarer cases.
# ``b_ids`` expands to one parameter per id: a claim holds at most ``limit`` ids, in chunks of
# 2,000, well inside both backends' parameter limits.
_NOW = bindparam("b_now", type_=QUEUE.c.updated_at.type)
# On PostgreSQL any held item may belong to a worker that died (liveness.py), not only one
# whose lease expired.
_HELD_SQLITE = _expired(_NOW)
_HELD_PG = QUEUE.c.status == "downloading"
_PROBE_SQLITE = select(
    exists(select(QUEUE.c.id).where(_due(_NOW))),
    exists(select(QUEUE.c.id).where(_HELD_SQLITE)),
)
_PROBE_PG = select(
    exists(select(QUEUE.c.id).where(_due(_NOW))),
    exists(select(QUEUE.c.id).where(_HELD_PG)),
)
_ACTIVE_PER_HOST = (
    select(QUEUE.c.source_host, func.count())
    .where(QUEUE.c.status == "downloading", QUEUE.c.source_host.is_not(None))
    .group_by(QUEUE.c.source_host)
)
_TOP_LEVEL = select(func.max(QUEUE.c.priority)).where(QUEUE.c.status == "queued")
_NEXT_LEVEL = _TOP_LEVEL.where(QUEUE.c.priority < bindparam("b_level"))
_PAGE = (
    select(QUEUE.c.id, QUEUE.c.source_host)
    .where(_due(_NOW), QUEUE.c.priority == bindparam("b_level"), QUEUE.c.id > bindparam("b_after"))
    .order_by(QUEUE.c.id)
    .limit(bindparam("b_need"))
    .with_for_update(skip_locked=True)
)
_CLAIM = (
    update(QUEUE)
    .where(QUEUE.c.id.in_(bindparam("b_ids", expanding=True)), QUEUE.c.status == "queued")
    .values(
        status="downloading",
        lease_owner=bindparam("b_owner"),
        lease_expires_at=bindparam("b_expires", type_=QUEUE.c.lease_expires_at.type),
        started_at=_NOW,
        updated_at=_NOW,
    )
    .returning(
        QUEUE.c.id,
        QUEUE.c.episode_id,
        QUEUE.c.attempts,
        QUEUE.c.max_attempts,
        QUEUE.c.source_host,
        QUEUE.c.downloaded_bytes,
    )
)


async def claim_batch(
    db: Database,
    *,
    owner: str,
    limit: int,
    lease_s: float = DEFAULT_LEASE_S,
    per_host_limit: int | None = None,
    per_host_delay_s: float = 0.0,
    recovery_s: float = 30.0,
    item_ids: Sequence[int] | None = None,
    releasing: Mapping[str, int] | None = None,
    now: datetime | None = None,
) -> list[Claim]:
    """Claim up to ``limit`` due items, highest priority first, for worker ``owner``.

    Expired leases are reclaimed first (their items become queued again). Hosts at their
    concurrency limit (lowered after a 429/503: downloads/politeness.py), paused (their
    Retry-After), or inside their delay after a download started or finished, are skipped. The claim is one conditional UPDATE (``status='queued'``); on PostgreSQL the
    transaction also holds an advisory lock, so per-host counts are exact across workers.

    Args:
        recovery_s: Seconds per step a lowered host limit grows back by.
        item_ids: Only claim among these items (a foreground ``showkeeper download``).
        releasing: Per host, items of this worker that are still ``downloading`` but have
            every byte on disk (only checks and bookkeeping are left): they no longer count
            against their host's limit, so its next download starts without waiting for them.
    """
    now = utc_now(now)
    if limit <= 0:
        return []
    only: ColumnElement[bool] | None = (
        id_in(QUEUE.c.id, item_ids, postgres=not db.is_sqlite) if item_ids is not None else None
    )
    # A read first: an idle worker polling the queue never takes the write lock.
    probe = _PROBE_SQLITE if db.is_sqlite else _PROBE_PG
    if only is not None:
        probe = select(
            exists(select(QUEUE.c.id).where(_due(_NOW), only)),
            exists(select(QUEUE.c.id).where(_HELD_SQLITE if db.is_sqlite else _HELD_PG)),
        )
    async with db.session() as s:
        any_due, any_held = (await s.execute(probe, {"b_now": now})).one()
    if not any_due and not any_held:
        return []
    any_expired = any_held
    async with db.write() as s:
        await lock_claims(s)
        await requeue_dead_workers(s)
        if any_expired:
            await _reclaim(s, now)
        overrides = await read_overrides(s)  # per-host limits, shared by every process

        def delay_of(host: str | None) -> float:
            own = overrides[host].delay_s if host in overrides else None
            return per_host_delay_s if own is None else own

        delays = per_host_delay_s > 0 or any(delay_of(h) > 0 for h in overrides)
        throttles = await read_throttles(s)  # hosts that asked to slow down, in any process
        if throttles:
            await settle_recovered(
                s, throttles, per_host_limit=per_host_limit, recovery_s=recovery_s, now=now
            )
        active: dict[str, int] = {}
        if per_host_limit is not None or overrides or throttles:
            active = {host: n for host, n in await s.execute(_ACTIVE_PER_HOST)}
            for host, n in (releasing or {}).items():
                if host in active:
                    active[host] = max(0, active[host] - n)
        last: dict[str, datetime] = {}
        if delays:
            hosts = await s.execute(select(HOSTS.c.host, HOSTS.c.last_activity_at))
            last = {host: at for host, at in hosts}
        budget = host_budget(
            active,
            last,
            now=now,
            limit=per_host_limit,
            delay_s=per_host_delay_s,
            overrides=overrides,
            throttles=throttles,
            recovery_s=recovery_s,
        )
        picked = await _pick(s, now=now, only=only, budget=budget, limit=limit)
        if not picked:
            return []
        claims: list[Claim] = []
        expires = now + timedelta(seconds=lease_s)
        for chunk in chunks(picked):
            values = {"b_ids": list(chunk), "b_owner": owner, "b_expires": expires, "b_now": now}
            result = await s.execute(_CLAIM, values)
            claims.extend(
                Claim(
                    id=row.id,
                    episode_id=row.episode_id,
                    attempts=row.attempts,
                    max_attempts=row.max_attempts,
                    source_host=row.source_host,
                    downloaded_bytes=row.downloaded_bytes,
                    lease_expires_at=expires,
                    host_delay_s=delay_of(row.source_host),
                )
                for row in result
            )
        if delays:
            await touch_hosts(s, (c.source_host for c in claims if c.host_delay_s > 0), now)
    order = {item_id: i for i, item_id in enumerate(picked)}
    claims.sort(key=lambda c: order[c.id])
    return claims


async def _pick(
    s: AsyncSession,
    *,
    now: datetime,
    only: ColumnElement[bool] | None,
    budget: HostBudget,
    limit: int,
) -> list[int]:
    """Choose up to ``limit`` due items: priority levels high to low, oldest first in each.

    Each level is read in id order through the (status, priority, id) index, page by page,
    skipping hosts without a free slot, so no query sorts the whole queue.
    """
    picked: list[int] = []
    used: dict[str, int] = {}
    excluded = closed_hosts(budget)
    level = await s.scalar(_TOP_LEVEL)
    while level is not None:
        after = 0
        while len(picked) < limit:
            need = limit - len(picked)
            query = _PAGE if only is None else _PAGE.where(only)
            if excluded:
                query = query.where(
                    or_(QUEUE.c.source_host.is_(None), QUEUE.c.source_host.not_in(excluded))
                )
            values = {"b_now": now, "b_level": level, "b_after": after, "b_need": need}
            rows = list(await s.execute(query, values))
            got, full = pick_claims(rows, budget, need, used)
            picked.extend(got)
            excluded |= full
            if len(rows) < need:
                break
            after = rows[-1][0]
        if len(picked) >= limit:
            break  # no need to look for a lower priority level
        level = await s.scalar(_NEXT_LEVEL, {"b_level": level})
    return picked


async def _reclaim(s: AsyncSession, now: datetime) -> list[int]:
    result = await s.execute(
        update(QUEUE)
        .where(_expired(now))
        .values(status="queued", lease_owner=None, lease_expires_at=None, updated_at=now)
        .returning(QUEUE.c.id)
    )
    ids = list(result.scalars())
    if ids:
        log.warning("reclaimed downloads whose worker stopped answering", item_ids=ids)
    return ids


async def reclaim_expired(db: Database, *, now: datetime | None = None) -> list[int]:
    """Put items whose lease expired back to queued (they resume from their .part file).

    Claims do this too; a paused or stopped pool calls it so nothing stays downloading.
    """
    now = utc_now(now)
    async with db.session() as s:  # a read first: usually there is nothing to do
        if not await s.scalar(select(exists(select(QUEUE.c.id).where(_expired(now))))):
            return []
    async with db.write() as s:
        return await _reclaim(s, now)
