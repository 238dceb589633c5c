"""One scan at a time, across processes: a lease row in system_settings.

The lease expires if its holder dies without releasing it (a crashed process), and the holder
renews it while it works, so a long scan keeps it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from showkeeper.db import Database
from showkeeper.db.models import SystemSetting
from showkeeper.errors import ConflictError
from showkeeper.library.bulk import insert_for

LOCK_KEY: Final = "library.scan_lock"
LAST_SCAN_KEY: Final = "library.last_scan"
LEASE: Final = timedelta(minutes=5)


class ScanRunningError(ConflictError):
    """Another scan holds the lease."""


class ScanLease:
    """The right to scan; get one with :meth:`acquire`, give it back with :meth:`release`."""

    def __init__(self, db: Database, owner: str) -> None:
        self.db = db
        self.owner = owner
        self.renewed_at = datetime.now(UTC)

    @classmethod
    async def acquire(cls, db: Database, owner: str, *, series_key: str | None) -> ScanLease:
        """Take the lease or raise :class:`ScanRunningError`."""
        now = datetime.now(UTC)
        value = {
            "owner": owner,
            "series_key": series_key,
            "started_at": now.isoformat(),
            "expires_at": (now + LEASE).isoformat(),
        }
        try:
            async with db.write() as s:
                current = await _lock_value(s)
                if current is None:
                    await s.execute(
                        insert(SystemSetting).values(key=LOCK_KEY, value=value, updated_at=now)
                    )
                elif _held(current, now):
                    raise ScanRunningError(_busy_message(current))
                else:
                    await _set_lock(s, value, now)
        except IntegrityError:  # another process inserted the row first
            raise ScanRunningError("a scan is already running") from None
        return cls(db, owner)

    async def renew(self) -> None:
        """Push the expiry forward (call it while working, at least every few minutes)."""
        now = datetime.now(UTC)
        if now - self.renewed_at < LEASE / 5:
            return
        async with self.db.write() as s:
            current = await _lock_value(s)
            if current is not None and current.get("owner") == self.owner:
                await _set_lock(s, {**current, "expires_at": (now + LEASE).isoformat()}, now)
        self.renewed_at = now

    async def release(self, last_result: dict[str, Any] | None = None) -> None:
        """Give the lease back; ``last_result`` is kept as the last scan's summary."""
        now = datetime.now(UTC)
        async with self.db.write() as s:
            current = await _lock_value(s)
            if current is not None and current.get("owner") == self.owner:
                await s.execute(delete(SystemSetting).where(SystemSetting.key == LOCK_KEY))
            if last_result is not None:
                ins = insert_for(s, SystemSetting.__table__)  # type: ignore[arg-type]
                await s.execute(
                    ins.values(
                        key=LAST_SCAN_KEY,
                        value={**last_result, "finished_at": now.isoformat()},
                        updated_at=now,
                    ).on_conflict_do_update(
                        index_elements=["key"],
                        set_={"value": ins.excluded.value, "updated_at": ins.excluded.updated_at},
                    )
                )


async def _lock_value(session: AsyncSession) -> dict[str, Any] | None:
    row = (
        await session.execute(
            select(SystemSetting.value).where(SystemSetting.key == LOCK_KEY).with_for_update()
        )
    ).first()
    return dict(row[0]) if row is not None and isinstance(row[0], dict) else None


async def _set_lock(session: AsyncSession, value: dict[str, Any], now: datetime) -> None:
    await session.execute(
        update(SystemSetting)
        .where(SystemSetting.key == LOCK_KEY)
        .values(value=value, updated_at=now)
    )


def _held(value: dict[str, Any], now: datetime) -> bool:
    try:
        return bool(value.get("owner")) and datetime.fromisoformat(value["expires_at"]) > now
    except (KeyError, TypeError, ValueError):
        return False


def _busy_message(value: dict[str, Any]) -> str:
    what = f" of {value['series_key']}" if value.get("series_key") else ""
    return (
        f"a scan is already running (scan{what} started at {value.get('started_at', '?')}; "
        f"if its process died, the lock expires at {value.get('expires_at', '?')})"
    )


async def scan_state(db: Database) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(the running scan's lease value or None, the last scan's summary or None)."""
    query = select(SystemSetting.key, SystemSetting.value).where(
        SystemSetting.key.in_((LOCK_KEY, LAST_SCAN_KEY))
    )
    async with db.session() as s:
        rows: dict[str, Any] = {key: value for key, value in await s.execute(query)}
    lock, last = rows.get(LOCK_KEY), rows.get(LAST_SCAN_KEY)
    running = dict(lock) if isinstance(lock, dict) and _held(lock, datetime.now(UTC)) else None
    return running, dict(last) if isinstance(last, dict) else None
