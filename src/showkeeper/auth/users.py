"""Users: the admin account made at setup."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from showkeeper.auth.passwords import check_strength, hash_password
from showkeeper.db.models import User
from showkeeper.errors import ConflictError

ADMIN = "admin"


async def get_user(session: AsyncSession, username: str) -> User | None:
    return (
        await session.execute(select(User).where(User.username == username))
    ).scalar_one_or_none()


async def user_count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(User))).scalar_one())


async def create_user(session: AsyncSession, *, username: str, password: str) -> User:
    """Create a user with an Argon2id hash of password.

    Raises:
        WeakPasswordError: the password is too short or too long.
        ConflictError: the username is taken.
    """
    check_strength(password)
    if await get_user(session, username) is not None:
        raise ConflictError(f"user {username!r} already exists")
    user = User(username=username, password_hash=await hash_password(password))
    session.add(user)
    await session.flush()
    return user


async def set_password(session: AsyncSession, user: User, password: str) -> None:
    check_strength(password)
    user.password_hash = await hash_password(password)
