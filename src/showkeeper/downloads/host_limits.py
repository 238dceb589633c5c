"""Per-host download limits: a source host's own concurrency and politeness delay, beside
the global download_per_host_concurrency / download_per_host_delay_s. Stored in the database
(table download_host_limits), so every worker process's claim honours them at once.

The listing also shows hosts limited for now because they asked to slow down (429/503 or
repeated timeouts; downloads/politeness.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from showkeeper.db import Database
from showkeeper.db.models import DownloadHostLimit
from showkeeper.domain.queue_rules import (
    HostLimit,
    HostThrottle,
    adaptive_limit,
    host_paused,
    normal_again_at,
    url_host,
)
from showkeeper.downloads.tables import read_throttles, utc_now
from showkeeper.errors import NotFoundError, ShowkeeperError

if TYPE_CHECKING:
    from showkeeper.context import AppContext

LIMITS = cast(Table, DownloadHostLimit.__table__)
MAX_CONCURRENCY = 32
MAX_DELAY_S = 3600.0


@dataclass(frozen=True, slots=True)
class HostLimitView:
    """A host's own limits (None: the global setting) and its adaptive state now."""

    host: str
    concurrency: int | None
    delay_s: float | None
    limited_to: int | None = None
    """The lowered limit in force after a 429/503 or repeated timeouts (None: not lowered)."""
    paused_until: datetime | None = None
    """No new download from the host before this (its Retry-After); None: not paused."""
    normal_at: datetime | None = None
    """When the host is back to normal if it asks for nothing more (None: it is)."""

    def state(self) -> str:
        """The adaptive state in words ("" when normal)."""
        if self.normal_at is None:
            return ""
        parts = []
        if self.limited_to is not None:
            parts.append(f"limited to {self.limited_to}")
        if self.paused_until is not None:
            parts.append(f"paused until {self.paused_until.isoformat(timespec='seconds')}")
        parts.append(f"normal by {self.normal_at.isoformat(timespec='seconds')}")
        return ", ".join(parts)


def normal_host(host: str) -> str:
    """A host as claims compare it (queue_rules.url_host's form). Raises ShowkeeperError."""
    found = url_host(f"http://{host.strip()}/")
    if not found or found != host.strip().lower().strip("[]") or any(c in found for c in " /@"):
        raise ShowkeeperError(f"{host[:100]!r} is not a host name or address")
    return found


async def read_overrides(s: AsyncSession) -> dict[str, HostLimit]:
    rows = await s.execute(select(LIMITS.c.host, LIMITS.c.concurrency, LIMITS.c.delay_s))
    return {host: HostLimit(concurrency, delay) for host, concurrency, delay in rows}


async def list_limits(
    db: Database,
    *,
    per_host_limit: int | None = None,
    recovery_s: float = 30.0,
    now: datetime | None = None,
) -> list[HostLimitView]:
    """Hosts with their own limits, and hosts limited or paused now (after a 429/503).

    Args:
        per_host_limit: The global download_per_host_concurrency (what a lowered limit grows
            back to); None shows pauses only.
        recovery_s: download_host_recovery_s.
    """
    now = utc_now(now)
    async with db.session() as s:
        found = await read_overrides(s)
        throttles = await read_throttles(s)
    views = []
    for host in sorted(set(found) | set(throttles)):
        own = found.get(host, HostLimit())
        state = throttles.get(host, HostThrottle())
        base = per_host_limit if own.concurrency is None else None
        limited = adaptive_limit(state, base=base, now=now, recovery_s=recovery_s)
        paused = state.until if host_paused(state, now) else None
        normal = normal_again_at(state, base=base, recovery_s=recovery_s)
        if own == HostLimit() and limited is None and paused is None:
            continue  # asked to slow down once, back to normal since
        normal = normal if normal is not None and normal > now else None
        views.append(HostLimitView(host, own.concurrency, own.delay_s, limited, paused, normal))
    return views


async def list_for(ctx: AppContext, *, now: datetime | None = None) -> list[HostLimitView]:
    """:func:`list_limits` with the context's settings."""
    return await list_limits(
        ctx.db,
        per_host_limit=ctx.settings.download_per_host_concurrency,
        recovery_s=ctx.settings.download_host_recovery_s,
        now=now,
    )


async def set_limit(
    db: Database, host: str, *, concurrency: int | None, delay_s: float | None
) -> HostLimitView:
    """Give `host` its own limits (None keeps the global one for that part)."""
    name = normal_host(host)
    if concurrency is not None and not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ShowkeeperError(f"concurrency must be from 1 to {MAX_CONCURRENCY}")
    if delay_s is not None and not 0 <= delay_s <= MAX_DELAY_S:
        raise ShowkeeperError(f"delay_s must be from 0 to {MAX_DELAY_S:g} seconds")
    async with db.write() as s:
        row = await s.get(DownloadHostLimit, name)
        if row is None:
            s.add(DownloadHostLimit(host=name, concurrency=concurrency, delay_s=delay_s))
        else:
            row.concurrency, row.delay_s = concurrency, delay_s
    return HostLimitView(name, concurrency, delay_s)


async def remove_limit(db: Database, host: str) -> None:
    name = normal_host(host)
    async with db.write() as s:
        result = await s.execute(delete(LIMITS).where(LIMITS.c.host == name))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFoundError(f"no limits are set for {name}")
