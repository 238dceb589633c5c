"""API keys: made at setup, rotatable, stored as sha256, compared in constant time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from showkeeper.auth.crypto import digest, new_secret, same
from showkeeper.db.models import ApiKey, User

KEY_PREFIX = "sk_"
# A user has one live key; a few more rows are tolerated (rotation racing a request).
_MAX_LIVE = 16


async def create_key(session: AsyncSession, *, user_id: int, name: str = "default") -> str:
    """Create a key; returns it (shown once, only its digest is stored)."""
    raw = new_secret(KEY_PREFIX)
    session.add(ApiKey(user_id=user_id, name=name, key_hash=digest(raw), prefix=raw[:10]))
    await session.flush()
    return raw


async def rotate(session: AsyncSession, *, user_id: int, now: datetime) -> str:
    """Revoke the user's live keys and make a new one; returns the new key."""
    await session.execute(
        update(ApiKey)
        .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return await create_key(session, user_id=user_id)


async def verify(session: AsyncSession, raw: str) -> tuple[ApiKey, User] | None:
    """The live key matching raw, with its user; every live key is compared in constant time."""
    if not raw or len(raw) > 200:
        return None
    wanted = digest(raw)
    rows = (
        await session.execute(
            select(ApiKey, User)
            .join(User, User.id == ApiKey.user_id)
            .where(ApiKey.revoked_at.is_(None))
            .limit(_MAX_LIVE)
        )
    ).all()
    match = None
    for row in rows:
        key, user = row
        if same(key.key_hash, wanted):
            match = (key, user)
    return match
