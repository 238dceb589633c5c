"""The DB-backed download queue: enqueue, heartbeat, release.

Every state change is a conditional UPDATE, so the database decides races: an item is
claimed by one worker only (``status='queued'`` in the WHERE), a worker only finishes an
item it still holds (``status='downloading' AND lease_owner=me``), and a cancel therefore
always wins. Expired leases (a crashed worker) are put back to ``queued`` by the next claim.
Claiming lives in :mod:`showkeeper.downloads.claim`; finishing, failing, cancelling and
retrying in :mod:`showkeeper.downloads.finish`: import each from where it lives.

All functions take ``now`` so tests can drive the clock; it defaults to the current time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, case, exists, literal, null, select, text, update

from showkeeper.db import Database
from showkeeper.domain.queue_rules import url_host
from showkeeper.downloads.claim import DEFAULT_LEASE_S
from showkeeper.downloads.tables import (
    ACTIVE_WHERE,
    EPISODES,
    QUEUE,
    chunks,
    dialect_insert,
    id_in,
    is_active,
    is_postgres,
    touch_hosts,
    utc_now,
)

MAX_CASE_HOSTS = 50

__all__ = ["EnqueueResult", "enqueue", "heartbeat", "release"]


@dataclass(frozen=True, slots=True)
class EnqueueResult:
    """What :func:`enqueue` did with each episode id it was given."""

    item_ids: list[int] = field(default_factory=list)
    """The new queue items."""
    added: list[int] = field(default_factory=list)
    """Episode ids that got a new item."""
    already_active: list[int] = field(default_factory=list)
    """Episode ids that already had a queued or downloading item (left as they were)."""
    unknown: list[int] = field(default_factory=list)
    """Episode ids that do not exist."""
    skipped_no_candidates: list[int] = field(default_factory=list)
    """Episode ids left out for want of a download candidate (set by
    :mod:`showkeeper.downloads.service`, which filters before calling :func:`enqueue`)."""


async def enqueue(
    db: Database,
    episode_ids: Iterable[int],
    *,
    priority: int = 0,
    max_attempts: int = 5,
    now: datetime | None = None,
) -> EnqueueResult:
    """Queue episodes for download; at most one active item per episode.

    An episode given twice, or already queued or downloading, is not queued again (the
    partial unique index is the last word, so concurrent callers cannot double it either).
    Unknown ids are reported, not raised; the caller decides whether that is an error.
    """
    wanted = list(dict.fromkeys(int(i) for i in episode_ids))
    now = utc_now(now)
    hosts: dict[int, str | None] = {}
    new: dict[int, int] = {}
    async with db.write() as s:
        pg = is_postgres(s)
        first_url = EPISODES.c.candidates[(0, "url")].as_string()
        for chunk in chunks(wanted):
            rows = await s.execute(
                select(EPISODES.c.id, first_url).where(id_in(EPISODES.c.id, chunk, postgres=pg))
            )
            hosts.update((eid, url_host(url)) for eid, url in rows)
        known = [eid for eid in wanted if eid in hosts]
        other = QUEUE.alias("other")
        stamp = literal(now, QUEUE.c.created_at.type)
        columns = ["episode_id", "status", "priority", "attempts", "max_attempts"]
        columns += ["downloaded_bytes", "source_host", "created_at", "updated_at"]
        late_hosts: dict[int, str] = {}
        for chunk in chunks(known):
            host, late = _host_column({eid: hosts[eid] for eid in chunk}, postgres=pg)
            rows_to_add = select(
                EPISODES.c.id,
                literal("queued"),
                literal(priority),
                literal(0),
                literal(max_attempts),
                literal(0),
                host,
                stamp,
                stamp,
            ).where(
                id_in(EPISODES.c.id, chunk, postgres=pg),
                ~exists().where(other.c.episode_id == EPISODES.c.id, is_active(other)),
            )
            stmt = dialect_insert(s, QUEUE).from_select(columns, rows_to_add)
            stmt = stmt.on_conflict_do_nothing(
                index_elements=[QUEUE.c.episode_id], index_where=ACTIVE_WHERE
            ).returning(QUEUE.c.id, QUEUE.c.episode_id)
            for item_id, eid in await s.execute(stmt):
                new[eid] = item_id
                if eid in late:
                    late_hosts[item_id] = late[eid]
        if late_hosts:
            await s.execute(
                text("UPDATE download_queue SET source_host = :h WHERE id = :i"),
                [{"h": h, "i": item_id} for item_id, h in late_hosts.items()],
            )
    added = [eid for eid in wanted if eid in new]
    return EnqueueResult(
        item_ids=[new[eid] for eid in added],
        added=added,
        already_active=[eid for eid in wanted if eid in hosts and eid not in new],
        unknown=[eid for eid in wanted if eid not in hosts],
    )


def _host_column(
    host_of: Mapping[int, str | None], *, postgres: bool
) -> tuple[ColumnElement[Any], dict[int, str]]:
    """The source host of each new row as one CASE over the episode ids (sources are few).

    With many distinct hosts the column is NULL and the second value maps episode ids to the
    hosts to set afterwards.
    """
    by_host: dict[str, list[int]] = {}
    for eid, host in host_of.items():
        if host:
            by_host.setdefault(host, []).append(eid)
    if not by_host:
        return null(), {}
    if len(by_host) > MAX_CASE_HOSTS:
        return null(), {eid: host for eid, host in host_of.items() if host}
    whens = [
        (id_in(EPISODES.c.id, ids, postgres=postgres), literal(host))
        for host, ids in by_host.items()
    ]
    return case(*whens, else_=null()), {}


async def heartbeat(
    db: Database,
    *,
    owner: str,
    item_ids: Iterable[int],
    lease_s: float = DEFAULT_LEASE_S,
    progress: Mapping[int, tuple[int, int | None]] | None = None,
    now: datetime | None = None,
) -> set[int]:
    """Extend ``owner``'s leases and store progress; returns the ids it still holds.

    An id missing from the result was cancelled, or its lease expired and was reclaimed:
    the worker must stop that transfer.
    """
    ids = list(dict.fromkeys(item_ids))
    if not ids:
        return set()
    now = utc_now(now)
    held: set[int] = set()
    async with db.write() as s:
        for chunk in chunks(ids):
            result = await s.execute(
                update(QUEUE)
                .where(
                    id_in(QUEUE.c.id, chunk, postgres=is_postgres(s)),
                    QUEUE.c.status == "downloading",
                    QUEUE.c.lease_owner == owner,
                )
                .values(lease_expires_at=now + timedelta(seconds=lease_s), updated_at=now)
                .returning(QUEUE.c.id)
            )
            held.update(result.scalars())
        rows = [
            {"b_id": item_id, "b_done": done, "b_total": total}
            for item_id, (done, total) in (progress or {}).items()
            if item_id in held
        ]
        if rows:
            await s.execute(
                update(QUEUE)
                .where(QUEUE.c.id == bindparam("b_id"))
                .values(downloaded_bytes=bindparam("b_done"), total_bytes=bindparam("b_total")),
                rows,
            )
    return held


async def release(
    db: Database,
    item_ids: Iterable[int],
    *,
    owner: str,
    track_hosts: bool = False,
    now: datetime | None = None,
) -> list[int]:
    """Give held items back to the queue (stop, shutdown); they resume from their .part."""
    ids = list(dict.fromkeys(item_ids))
    if not ids:
        return []
    now = utc_now(now)
    released: list[int] = []
    async with db.write() as s:
        for chunk in chunks(ids):
            result = await s.execute(
                update(QUEUE)
                .where(
                    id_in(QUEUE.c.id, chunk, postgres=is_postgres(s)),
                    QUEUE.c.status == "downloading",
                    QUEUE.c.lease_owner == owner,
                )
                .values(status="queued", lease_owner=None, lease_expires_at=None, updated_at=now)
                .returning(QUEUE.c.id, QUEUE.c.source_host)
            )
            rows = list(result)
            released.extend(r.id for r in rows)
            if track_hosts:
                await touch_hosts(s, (r.source_host for r in rows), now)
    return released


async def move(db: Database, item_id: int, direction: str) -> int | None:
    """Move a queued item ahead of the one before it ("up") or behind the one after it
    ("down") in claim order, by giving it that neighbour's priority plus or minus one.

    Returns its new priority; None when it is not queued. At the first (last) place it stays.
    """
    async with db.write() as s:
        row = (
            await s.execute(
                select(QUEUE.c.priority).where(QUEUE.c.id == item_id, QUEUE.c.status == "queued")
            )
        ).first()
        if row is None:
            return None
        priority: int = row.priority
        queued = QUEUE.c.status == "queued"
        if direction == "up":
            ahead = (QUEUE.c.priority > priority) | (
                (QUEUE.c.priority == priority) & (QUEUE.c.id < item_id)
            )
            order: Any = (QUEUE.c.priority.asc(), QUEUE.c.id.desc())
            step = 1
        else:
            ahead = (QUEUE.c.priority < priority) | (
                (QUEUE.c.priority == priority) & (QUEUE.c.id > item_id)
            )
            order = (QUEUE.c.priority.desc(), QUEUE.c.id.asc())
            step = -1
        neighbour = (
            await s.execute(select(QUEUE.c.priority).where(queued, ahead).order_by(*order).limit(1))
        ).first()
        if neighbour is None:
            return priority
        new = int(neighbour.priority) + step
        await s.execute(update(QUEUE).where(QUEUE.c.id == item_id).values(priority=new))
        return new
