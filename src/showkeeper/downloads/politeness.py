"""Adaptive host politeness in the database: a host that answers 429/503, or keeps timing
out, gets its limit halved and a pause (its Retry-After), shared by every worker process.

The rules are pure (domain/queue_rules.py: :func:`after_throttle`, :func:`adaptive_limit`);
this module finds the hosts in a failed transfer (:func:`troubles_of`), stores their new
state (:func:`record_troubles`, called by the worker before the item is requeued) and forgets
it once a host is back to normal (:func:`settle_recovered`, called by the claim, which reads
the state in the same transaction as every other per-host limit).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from showkeeper.db import Database
from showkeeper.domain.queue_rules import (
    THROTTLE_STATUSES,
    HostThrottle,
    adaptive_limit,
    after_throttle,
    host_paused,
    keeps_timing_out,
    url_host,
)
from showkeeper.downloads.host_limits import read_overrides
from showkeeper.downloads.tables import HOSTS, dialect_insert, lock_claims, utc_now
from showkeeper.downloads.transfer import AllCandidatesFailed, TransferError
from showkeeper.logging import get_logger

log = get_logger(__name__)

_CHAIN_LIMIT = 8


@dataclass(frozen=True, slots=True)
class HostTrouble:
    """A host that asked to slow down (``throttled``: 429/503) or timed out."""

    host: str
    kind: Literal["throttled", "timeout"]
    status: int | None = None
    retry_after_s: float | None = None


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and what caused it (``raise ... from``, or raised while handling)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(seen) < _CHAIN_LIMIT:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _trouble(error: BaseException, url: str | None) -> HostTrouble | None:
    # On use: showkeeper.net loads aiohttp, which the claim (importing this module) does not need.
    from showkeeper.net.errors import HttpStatusError, OutboundError, OutboundTimeoutError

    for link in _chain(error):
        found: HostTrouble | None = None
        host = url_host(url) or url_host(getattr(link, "url", None)) or ""
        if isinstance(link, TransferError) and link.throttled:
            found = HostTrouble(host, "throttled", link.status, link.retry_after_s)
        elif isinstance(link, HttpStatusError) and link.status in THROTTLE_STATUSES:
            found = HostTrouble(host, "throttled", link.status)  # the client retried already
        elif isinstance(link, OutboundTimeoutError) or (
            isinstance(link, TimeoutError) and not isinstance(link, OutboundError)
        ):
            found = HostTrouble(host, "timeout")
        if found is not None:
            return found if found.host else None
    return None


def troubles_of(error: BaseException) -> list[HostTrouble]:
    """The hosts a failed transfer says to slow down for, one entry per host.

    Each candidate's error is charged to the candidate's host (the host claims compare,
    before redirects); a 429/503 outweighs a timeout.
    """
    pairs: Sequence[tuple[BaseException, str | None]]
    if isinstance(error, AllCandidatesFailed):
        pairs = [(cause, url) for (url, _), cause in zip(error.tried, error.causes, strict=False)]
    else:
        pairs = [(error, None)]
    found: dict[str, HostTrouble] = {}
    for cause, url in pairs:
        trouble = _trouble(cause, url)
        if trouble is None:
            continue
        before = found.get(trouble.host)
        if before is None or (trouble.kind == "throttled" and before.kind != "throttled"):
            found[trouble.host] = trouble
    return list(found.values())


async def record_troubles(
    db: Database,
    troubles: Sequence[HostTrouble],
    *,
    per_host_limit: int | None,
    recovery_s: float,
    now: datetime | None = None,
) -> datetime | None:
    """Store what ``troubles`` do to their hosts; returns the latest pause end among them
    (the failed item waits at least that long).

    A 429/503 pauses the host and halves its limit (:func:`after_throttle`); a timeout does
    so only when the host timed out shortly before too. One WARNING is logged when a host
    gets limited. Serialised with claims (PostgreSQL advisory lock; SQLite's write lock).
    """
    if not troubles:
        return None
    now = utc_now(now)
    names = sorted({t.host for t in troubles})
    latest: datetime | None = None
    async with db.write() as s:
        await lock_claims(s)
        rows = await s.execute(
            select(
                HOSTS.c.host, HOSTS.c.throttle_limit, HOSTS.c.throttle_until, HOSTS.c.timed_out_at
            ).where(HOSTS.c.host.in_(names))
        )
        known = {host: (HostThrottle(limit, until), timed) for host, limit, until, timed in rows}
        overrides = await read_overrides(s)
        for trouble in troubles:
            state, timed_out_at = known.get(trouble.host, (HostThrottle(), None))
            if trouble.kind == "timeout" and not keeps_timing_out(timed_out_at, now):
                await _store(s, trouble.host, now, {"timed_out_at": now})
                continue
            own = overrides.get(trouble.host)
            new = after_throttle(
                state,
                base=per_host_limit,
                own_concurrency=own.concurrency if own is not None else None,
                now=now,
                retry_after_s=trouble.retry_after_s,
                recovery_s=recovery_s,
            )
            values = {"throttle_limit": new.limit, "throttle_until": new.until}
            await _store(s, trouble.host, now, {**values, "timed_out_at": None})
            assert new.until is not None
            latest = new.until if latest is None else max(latest, new.until)
            if not host_paused(state, now):
                log.warning(
                    "download host asked to slow down; limited",
                    host=trouble.host,
                    reason=f"HTTP {trouble.status}" if trouble.status else "repeated timeouts",
                    limit=new.limit if new.limit is not None else "its own",
                    until=new.until.isoformat(timespec="seconds"),
                )
    return latest


async def _store(s: AsyncSession, host: str, now: datetime, values: Mapping[str, object]) -> None:
    stmt = dialect_insert(s, HOSTS).values(host=host, last_activity_at=now, **values)
    await s.execute(stmt.on_conflict_do_update(index_elements=[HOSTS.c.host], set_=dict(values)))


async def settle_recovered(
    s: AsyncSession,
    throttles: Mapping[str, HostThrottle],
    *,
    per_host_limit: int | None,
    recovery_s: float,
    now: datetime,
) -> None:
    """Forget the state of hosts back to normal, in the claim's transaction; one INFO line
    per host (the UPDATE names the state it saw, so only one process logs it)."""
    for host, state in throttles.items():
        if host_paused(state, now):
            continue
        if adaptive_limit(state, base=per_host_limit, now=now, recovery_s=recovery_s) is not None:
            continue
        result = await s.execute(
            update(HOSTS)
            .where(HOSTS.c.host == host, HOSTS.c.throttle_until == state.until)
            .values(throttle_limit=None, throttle_until=None)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            log.info("download host back to its normal limit", host=host)
