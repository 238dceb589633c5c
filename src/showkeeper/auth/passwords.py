"""Argon2id password hashes (OWASP minimum: 19 MiB, t=2, p=1)."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from showkeeper.auth.errors import WeakPasswordError
from showkeeper.malloc import pin_mmap_threshold

# Before the first hash: each hash's 19 MiB is then returned to the system when it is done,
# instead of staying resident in every thread that ever hashed (see showkeeper/malloc.py).
pin_mmap_threshold()
HASHER = PasswordHasher(memory_cost=19456, time_cost=2, parallelism=1)
MIN_LENGTH = 8
MAX_LENGTH = 1024
# Verified against when the account does not exist, so both cases take as long.
_DUMMY_HASH = HASHER.hash("showkeeper-no-such-user")


def check_strength(password: str) -> None:
    """Raise WeakPasswordError when the password is too short or absurdly long."""
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(f"the password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPasswordError(f"the password may have at most {MAX_LENGTH} characters")


async def hash_password(password: str) -> str:
    """Hash in a thread: argon2 takes tens of milliseconds of CPU."""
    return await asyncio.to_thread(HASHER.hash, password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """True when password matches stored; a None hash costs the same and is False."""
    return await asyncio.to_thread(_verify, stored, password)


def needs_rehash(stored: str) -> bool:
    return HASHER.check_needs_rehash(stored)
