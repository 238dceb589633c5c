"""Login throttling per client address and per account, in the database.

An attempt is reserved before its password is checked: one row per key (client and account)
inserted in the same short write transaction that counts the recent rows, so parallel guesses
beyond the limit are refused without a password check. The row stays as the failure record
unless the login succeeds, which clears both keys. The state lives in the database, so every
process (API processes on PostgreSQL) shares one count: SQLite serialises the transaction with
BEGIN IMMEDIATE, PostgreSQL with a transaction-level advisory lock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text

from showkeeper.auth.errors import TooManyAttemptsError
from showkeeper.db.engine import Database
from showkeeper.db.models import LoginAttempt

# pg_advisory_xact_lock key serialising reservations across processes
THROTTLE_LOCK_ID = 0x5348_4B54  # "SHKT"


@dataclass(frozen=True, slots=True)
class ThrottleLimits:
    max_per_client: int
    max_per_account: int
    window_s: float


def _keys(client: str, account: str) -> tuple[str, str]:
    return f"c:{client}"[:200], f"a:{account}"[:200]


async def reserve(
    db: Database, client: str, account: str, *, limits: ThrottleLimits, now: datetime
) -> None:
    """Count this attempt against both keys, or refuse it.

    Raises:
        TooManyAttemptsError: either key has `limit` attempts within the window (nothing is
            reserved then); `retry_after` says how long until the oldest of them expires.
    """
    window = timedelta(seconds=limits.window_s)
    keys = _keys(client, account)
    async with db.write() as s:
        if not db.is_sqlite:
            await s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": THROTTLE_LOCK_ID})
        await s.execute(delete(LoginAttempt).where(LoginAttempt.at <= now - window))
        wait: float | None = None
        for key, limit in zip(keys, (limits.max_per_client, limits.max_per_account), strict=True):
            recent = (
                await s.scalars(
                    select(LoginAttempt.at)
                    .where(LoginAttempt.key == key)
                    .order_by(LoginAttempt.at.desc())
                    .limit(limit)
                )
            ).all()
            if len(recent) >= limit:
                wait = max(wait or 0.0, (recent[-1] + window - now).total_seconds())
        if wait is not None:
            raise TooManyAttemptsError(max(1, math.ceil(wait)))
        s.add_all([LoginAttempt(key=key, at=now) for key in keys])


async def release(db: Database, client: str, account: str) -> None:
    """A successful login: this client's and this account's attempts are forgotten."""
    async with db.write() as s:
        await s.execute(delete(LoginAttempt).where(LoginAttempt.key.in_(_keys(client, account))))
