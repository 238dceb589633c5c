"""SQL helpers shared by the queue modules: the tables, chunking, host bookkeeping."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    String,
    Table,
    any_,
    bindparam,
    case,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from showkeeper.db.models import (
    DownloadHistory,
    DownloadHost,
    Episode,
    QueueItem,
    Series,
)
from showkeeper.domain.queue_rules import HostThrottle

T = TypeVar("T")

QUEUE = cast(Table, QueueItem.__table__)
EPISODES = cast(Table, Episode.__table__)
SERIES = cast(Table, Series.__table__)
HISTORY = cast(Table, DownloadHistory.__table__)
HOSTS = cast(Table, DownloadHost.__table__)

CHUNK = 2000
"""Ids per IN (...) list: far below every backend's bound-parameter limit."""
ERROR_MAX_CHARS = 2000
# pg_advisory_xact_lock key serialising claims, so per-host counts are exact across workers.
CLAIM_LOCK_ID = 0x5B0C_D10A
# The partial unique index's predicate, as ON CONFLICT must repeat it (literal, not bound).
ACTIVE_WHERE = text("status IN ('queued', 'downloading')")


def id_in(column: ColumnElement[int], ids: Sequence[int], *, postgres: bool) -> ColumnElement[bool]:
    """``column IN (ids)`` with the ids in ONE bound parameter (a JSON array read by json_each
    on SQLite, an integer array on PostgreSQL): a list of thousands costs no SQL rendering."""
    values = [int(i) for i in ids]
    if postgres:
        return column == any_(bindparam(None, values, type_=postgresql.ARRAY(Integer)))
    rows = func.json_each(bindparam(None, json.dumps(values), type_=String)).table_valued("value")
    return column.in_(select(rows.c.value))


def is_active(table: FromClause) -> ColumnElement[bool]:
    """``status IN ('queued', 'downloading')`` with literal values, so the partial index is used."""
    return table.c.status.in_([literal_column("'queued'"), literal_column("'downloading'")])


def utc_now(now: datetime | None = None) -> datetime:
    """``now`` if given (tests inject a clock), else the current UTC time."""
    return now if now is not None else datetime.now(UTC)


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def one_line(message: str) -> str:
    """An error message as one bounded line, for last_error and history."""
    line = " ".join(message.split())
    return line if len(line) <= ERROR_MAX_CHARS else line[: ERROR_MAX_CHARS - 3] + "..."


def dialect_insert(session: AsyncSession, table: Table) -> Any:
    """INSERT with the dialect's ON CONFLICT support (SQLite or PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def db_value(session: AsyncSession, column: ColumnElement[Any], value: Any) -> Any:
    """``value`` as the driver receives it for ``column`` (for a typed value in ``text()``)."""
    processor = column.type.bind_processor(session.get_bind().dialect)
    return processor(value) if processor is not None else value


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def lock_claims(session: AsyncSession) -> None:
    """Serialise claimers on PostgreSQL (SQLite's BEGIN IMMEDIATE already does)."""
    if is_postgres(session):
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CLAIM_LOCK_ID})


async def touch_hosts(session: AsyncSession, hosts: Iterable[str | None], now: datetime) -> None:
    """Record that a download from each host started or finished now."""
    names = sorted({h for h in hosts if h})
    if not names:
        return
    stmt = dialect_insert(session, HOSTS)
    stmt = stmt.on_conflict_do_update(
        index_elements=[HOSTS.c.host], set_={"last_activity_at": stmt.excluded.last_activity_at}
    )
    await session.execute(stmt, [{"host": h, "last_activity_at": now} for h in names])


_THROTTLED = select(HOSTS.c.host, HOSTS.c.throttle_limit, HOSTS.c.throttle_until).where(
    HOSTS.c.throttle_until.is_not(None)
)


async def read_throttles(session: AsyncSession) -> dict[str, HostThrottle]:
    """Hosts with an adaptive state (a pause, maybe a lowered limit): see politeness.py."""
    rows = await session.execute(_THROTTLED)
    return {host: HostThrottle(limit, until) for host, limit, until in rows}


async def history_from_queue(
    session: AsyncSession,
    item_ids: Sequence[int],
    *,
    status: str,
    now: datetime,
    error: str | None = None,
    attempts_offset: int = 0,
    candidate_urls: Mapping[int, str] | None = None,
) -> None:
    """Write a DownloadHistory row per queue item, from the item, its episode and series.

    A completed item's row takes the episode's file path and size; ``attempts_offset`` adds
    the successful attempt, which the queue's failure counter does not include;
    ``candidate_urls`` maps episode ids to the URL that worked.
    """
    done = status == "completed"
    columns = ["episode_id", "series_key", "season", "episode", "status", "file_path", "size"]
    columns += ["candidate_url", "error", "attempts", "started_at", "finished_at"]
    url: ColumnElement[Any] = null()
    if candidate_urls:
        url = case(dict(candidate_urls), value=EPISODES.c.id, else_=null())
    for chunk in chunks(list(item_ids)):
        rows = (
            select(
                QUEUE.c.episode_id,
                SERIES.c.key,
                EPISODES.c.season,
                EPISODES.c.episode,
                literal(status),
                EPISODES.c.file_path if done else null(),
                EPISODES.c.size if done else null(),
                url,
                literal(error, HISTORY.c.error.type),
                QUEUE.c.attempts + attempts_offset,
                QUEUE.c.started_at,
                literal(now, HISTORY.c.finished_at.type),
            )
            .select_from(
                QUEUE.join(EPISODES, EPISODES.c.id == QUEUE.c.episode_id).join(
                    SERIES, SERIES.c.id == EPISODES.c.series_id
                )
            )
            .where(id_in(QUEUE.c.id, chunk, postgres=is_postgres(session)))
        )
        await session.execute(insert(HISTORY).from_select(columns, rows))
