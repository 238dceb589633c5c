"""Who is making a request: resolved from an API key, a bearer token or a session cookie."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from showkeeper.auth import api_keys, sessions
from showkeeper.db import Database

Method = Literal["api_key", "token", "session"]


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    username: str
    method: Method
    # the auth_sessions row of a session or token; None for an API key
    session_id: int | None = None
    csrf_token: str | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a request presented; at most one of them is used (in this order)."""

    api_key: str | None = None
    bearer: str | None = None
    session: str | None = None

    @property
    def any(self) -> bool:
        return bool(self.api_key or self.bearer or self.session)


async def authenticate(db: Database, creds: Credentials, *, now: datetime) -> Principal | None:
    """The principal for the first credential presented, or None when it is not valid.

    A request that presents a wrong API key is not retried with its cookie: the first
    credential decides.
    """
    async with db.session() as s:
        if creds.api_key:
            found = await api_keys.verify(s, creds.api_key)
            if found is None:
                return None
            _key, user = found
            return Principal(user.id, user.username, "api_key")
        for raw, kind in ((creds.bearer, "token"), (creds.session, "session")):
            if raw:
                live = await sessions.resolve(s, raw, kind=kind, now=now)  # type: ignore[arg-type]
                if live is None:
                    return None
                row, user = live
                method: Method = "token" if kind == "token" else "session"
                return Principal(
                    user.id, user.username, method, row.id, row.csrf_token, row.expires_at
                )
    return None
