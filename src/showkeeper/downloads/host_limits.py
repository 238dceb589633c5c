"""Per-host download limits: a source host's own concurrency and politeness delay, beside
the global download_per_host_concurrency / download_per_host_delay_s. Stored in the database
(table download_host_limits), so every worker process's claim honours them at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from showkeeper.db import Database
from showkeeper.db.models import DownloadHostLimit
from showkeeper.domain.queue_rules import HostLimit, url_host
from showkeeper.errors import NotFoundError, ShowkeeperError

LIMITS = cast(Table, DownloadHostLimit.__table__)
MAX_CONCURRENCY = 32
MAX_DELAY_S = 3600.0


@dataclass(frozen=True, slots=True)
class HostLimitView:
    host: str
    concurrency: int | None
    delay_s: float | None


def normal_host(host: str) -> str:
    """A host as claims compare it (queue_rules.url_host's form). Raises ShowkeeperError."""
    found = url_host(f"http://{host.strip()}/")
    if not found or found != host.strip().lower().strip("[]") or any(c in found for c in " /@"):
        raise ShowkeeperError(f"{host[:100]!r} is not a host name or address")
    return found


async def read_overrides(s: AsyncSession) -> dict[str, HostLimit]:
    rows = await s.execute(select(LIMITS.c.host, LIMITS.c.concurrency, LIMITS.c.delay_s))
    return {host: HostLimit(concurrency, delay) for host, concurrency, delay in rows}


async def list_limits(db: Database) -> list[HostLimitView]:
    async with db.session() as s:
        found = await read_overrides(s)
    return [HostLimitView(h, v.concurrency, v.delay_s) for h, v in sorted(found.items())]


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
