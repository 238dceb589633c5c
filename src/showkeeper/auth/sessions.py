"""Browser sessions and bearer tokens: random secrets stored as sha256, expiring, revocable."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from showkeeper.auth.crypto import digest, new_secret, same
from showkeeper.db.models import AuthSession, User

Kind = Literal["session", "token"]
TOKEN_PREFIX = "skt_"  # noqa: S105 - a prefix, not a secret


async def issue(
    session: AsyncSession,
    *,
    user_id: int,
    kind: Kind,
    ttl: timedelta,
    now: datetime,
    client: str | None = None,
) -> tuple[str, AuthSession]:
    """Create a session or token; returns the secret (shown once) and the row."""
    raw = new_secret(TOKEN_PREFIX if kind == "token" else "")
    row = AuthSession(
        user_id=user_id,
        kind=kind,
        token_hash=digest(raw),
        csrf_token=new_secret() if kind == "session" else None,
        client=(client or "")[:100] or None,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(row)
    await session.flush()
    return raw, row


async def resolve(
    session: AsyncSession, raw: str, *, kind: Kind, now: datetime
) -> tuple[AuthSession, User] | None:
    """The live (not expired, not revoked) session or token for raw, with its user."""
    if not raw or len(raw) > 200:
        return None
    wanted = digest(raw)
    found = (
        await session.execute(
            select(AuthSession, User)
            .join(User, User.id == AuthSession.user_id)
            .where(AuthSession.token_hash == wanted, AuthSession.kind == kind)
        )
    ).first()
    if found is None:
        return None
    row, user = found
    if not same(row.token_hash, wanted) or row.revoked_at is not None or row.expires_at <= now:
        return None
    return row, user


async def revoke(session: AsyncSession, *, row_id: int, now: datetime) -> bool:
    result = await session.execute(
        update(AuthSession)
        .where(AuthSession.id == row_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


async def revoke_secret(session: AsyncSession, raw: str, *, user_id: int, now: datetime) -> bool:
    """Revoke the session or token whose secret is raw (only the user's own)."""
    result = await session.execute(
        update(AuthSession)
        .where(
            AuthSession.token_hash == digest(raw),
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


async def revoke_all(
    session: AsyncSession,
    *,
    user_id: int,
    now: datetime,
    kind: Kind | None = None,
    except_id: int | None = None,
) -> int:
    """Revoke every live session/token of a user (optionally of one kind, sparing one)."""
    stmt = update(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
    )
    if kind is not None:
        stmt = stmt.where(AuthSession.kind == kind)
    if except_id is not None:
        stmt = stmt.where(AuthSession.id != except_id)
    result = await session.execute(stmt.values(revoked_at=now))
    return int(getattr(result, "rowcount", 0))


async def purge(session: AsyncSession, *, now: datetime, keep: timedelta) -> int:
    """Delete rows that expired or were revoked more than `keep` ago."""
    cutoff = now - keep
    result = await session.execute(
        delete(AuthSession).where(
            or_(AuthSession.expires_at < cutoff, AuthSession.revoked_at < cutoff)
        )
    )
    return int(getattr(result, "rowcount", 0))
