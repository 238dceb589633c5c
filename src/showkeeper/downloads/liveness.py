"""Dead workers found in seconds on PostgreSQL: each worker pool holds a session-level
advisory lock (namespace WORKER_LOCK_NS, key hashtext(owner)) on a connection of its own for
as long as it runs. A process that dies (kill -9, a lost machine) loses its connection, and
PostgreSQL drops the lock with it. Whoever claims next (claim.py, inside the claim
transaction) lists the live locks in pg_locks and requeues the items of owners without one,
instead of waiting for their leases to expire. Only owners listed in download_workers
(those that took the lock) are checked, so a claimer without one is never taken for dead. SQLite keeps the lease alone: one file, one
machine, and a lease of a minute.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, bindparam, delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from showkeeper.db import Database
from showkeeper.db.models import DownloadWorker, SystemSetting
from showkeeper.downloads.tables import QUEUE, is_postgres, utc_now
from showkeeper.logging import get_logger

log = get_logger(__name__)

WORKERS = cast(Table, DownloadWorker.__table__)
WORKER_LOCK_NS = 0x53484B57  # "SHKW": the first key of every worker's advisory lock


class WorkerLiveness:
    """The advisory lock that says "this worker pool is alive" (PostgreSQL only)."""

    def __init__(self, db: Database, owner: str) -> None:
        self.db = db
        self.owner = owner
        self._conn: AsyncConnection | None = None

    async def hold(self) -> None:
        if self.db.is_sqlite or self._conn is not None:
            return
        conn = await self.db.engine.connect()
        await conn.execute(
            text("SELECT pg_advisory_lock(:ns, hashtext(:owner))"),
            {"ns": WORKER_LOCK_NS, "owner": self.owner},
        )
        await conn.commit()  # the lock is the session's; no transaction stays open
        self._conn = conn
        async with self.db.write() as s:  # listed only once the lock is held
            await s.execute(insert(WORKERS).values(owner=self.owner, started_at=utc_now(None)))

    async def release(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            async with self.db.write() as s:
                await s.execute(delete(WORKERS).where(WORKERS.c.owner == self.owner))
            await conn.close()  # the session ends and its lock with it


async def requeue_dead_workers(s: AsyncSession) -> list[int]:
    """Items held by a worker whose liveness lock is gone: back to queued, now.

    Call inside the claim transaction (it holds the claim lock, so no worker is between
    its claim and its lock)."""
    if not is_postgres(s):
        return []
    owners = list((await s.execute(select(WORKERS.c.owner))).scalars())
    if not owners:
        return []
    live = set(
        (
            await s.execute(
                text(
                    "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' "
                    "AND granted AND classid::bigint = :ns AND objsubid = 2 "
                    "AND database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())"
                ),
                {"ns": WORKER_LOCK_NS},
            )
        ).scalars()
    )
    hashes = (
        await s.execute(
            text(
                "SELECT o, (hashtext(o)::bigint & 4294967295) FROM unnest(CAST(:owners AS text[])) AS o"
            ).bindparams(bindparam("owners", owners))
        )
    ).all()
    dead = [owner for owner, key in hashes if key not in live]
    if not dead:
        return []
    await s.execute(delete(WORKERS).where(WORKERS.c.owner.in_(dead)))
    result = await s.execute(
        update(QUEUE)
        .where(QUEUE.c.status == "downloading", QUEUE.c.lease_owner.in_(dead))
        .values(status="queued", lease_owner=None, lease_expires_at=None, updated_at=utc_now(None))
        .returning(QUEUE.c.id)
    )
    ids = list(result.scalars())
    if ids:
        log.warning("requeued the downloads of workers that died", owners=dead, item_ids=ids)
    return ids


NO_LIBRARY = (
    "waiting for a library folder: finish setup (or set library_dir) in the API process, "
    "or set SHOWKEEPER_LIBRARY_DIR for this worker"
)
WAITING_PREFIX = "worker_waiting:"


async def set_waiting(db: Database, owner: str, reason: str | None) -> None:
    """Record (or clear) why a worker pool is not claiming, for the API's /health."""
    key = f"{WAITING_PREFIX}{owner}"[:200]
    async with db.write() as s:
        row = await s.get(SystemSetting, key)
        if reason is None:
            if row is not None:
                await s.delete(row)
        elif row is None:
            s.add(SystemSetting(key=key, value={"owner": owner, "reason": reason}))
        else:
            row.value = {"owner": owner, "reason": reason}


async def waiting_workers(db: Database) -> list[dict[str, str]]:
    """Worker pools that are waiting, with why."""
    async with db.session() as s:
        rows = await s.scalars(
            select(SystemSetting.value).where(SystemSetting.key.startswith(WAITING_PREFIX))
        )
        return [dict(v) for v in rows if isinstance(v, dict)]
