"""Changing the master password (from a session, with the current one) and resetting it (by
the server's owner, from the CLI). Both end every other session and every bearer token."""

from __future__ import annotations

from datetime import datetime

from showkeeper.auth import sessions
from showkeeper.auth.passwords import check_strength, verify_password
from showkeeper.auth.users import ADMIN, get_user, set_password
from showkeeper.db import Database
from showkeeper.db.models import User
from showkeeper.errors import NotFoundError, ShowkeeperError


class WrongPasswordError(ShowkeeperError):
    status_code = 400


async def change_password(
    db: Database,
    *,
    user_id: int,
    current: str,
    new: str,
    now: datetime,
    keep_session_id: int | None,
) -> int:
    """Set a new password after checking the current one; returns how many other sessions
    and tokens were revoked.

    Raises:
        WrongPasswordError: the current password is wrong (nothing changes).
        WeakPasswordError: the new one is too short or too long.
    """
    check_strength(new)
    async with db.session() as s:
        user = await s.get(User, user_id)
        stored = user.password_hash if user is not None else None
    if not await verify_password(stored, current):
        raise WrongPasswordError("current_password is wrong; nothing was changed")
    async with db.write() as s:
        user = await s.get(User, user_id)
        if user is None:
            raise NotFoundError("this account no longer exists")
        await set_password(s, user, new)
        return await sessions.revoke_all(s, user_id=user_id, now=now, except_id=keep_session_id)


async def reset_password(db: Database, *, new: str, now: datetime) -> int:
    """Set the admin's password without the old one (the CLI, for a lost password); every
    session and token is revoked. Returns how many.

    Raises:
        NotFoundError: setup has not made the admin yet.
        WeakPasswordError: the password is too short or too long.
    """
    check_strength(new)
    async with db.write() as s:
        user = await get_user(s, ADMIN)
        if user is None:
            raise NotFoundError("no admin account yet: finish setup at /setup first")
        await set_password(s, user, new)
        return await sessions.revoke_all(s, user_id=user.id, now=now)
