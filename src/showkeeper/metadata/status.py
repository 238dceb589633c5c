"""TMDB's health as the loader last saw it (system_settings "metadata.tmdb"), for
/health/detailed, the settings and the System page: configured, reachable, the last error."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from showkeeper.config import Settings
from showkeeper.db import Database
from showkeeper.db.models import SystemSetting

KEY = "metadata.tmdb"


async def record_tmdb(
    db: Database,
    *,
    requests: int,
    error: str | None,
    auth: bool,
    lock: asyncio.Lock | None = None,
    known: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Store the outcome of a load's TMDB calls when it differs from the stored one (nothing
    when no call was made); ``checked_at`` is when the outcome last changed.

    ``known`` is what a previous call returned (loads running together pass it on, so the
    stored value is read once, not once per series). Returns the outcome now stored.
    """
    if not requests:
        return known
    failed = error is not None and not error.startswith("no confident TMDB match")
    value = {"ok": not failed, "error": error if failed else None, "bad_key": auth}
    if known is None:
        async with db.session() as s:
            row = await s.scalar(select(SystemSetting).where(SystemSetting.key == KEY))
        known = {k: row.value.get(k) for k in value} if row is not None else {}
    if known == value:
        return value
    async with lock or contextlib.nullcontext(), db.write() as s:
        await s.merge(SystemSetting(key=KEY, value={**value, "at": datetime.now(UTC).isoformat()}))
    return value


async def tmdb_status(settings: Settings, db: Database) -> dict[str, Any]:
    """``{"configured", "status" (ok|error|unknown|off), "bad_key", "last_error", "checked_at"}``."""
    key = settings.tmdb_api_key
    configured = key is not None and bool(key.get_secret_value().strip())
    async with db.session() as s:
        row = await s.scalar(select(SystemSetting).where(SystemSetting.key == KEY))
    value = row.value if row is not None and isinstance(row.value, dict) else {}
    if not configured:
        status = "off"
    elif not value:
        status = "unknown"
    else:
        status = "ok" if value.get("ok") else "error"
    return {
        "configured": configured,
        "status": status,
        "bad_key": bool(value.get("bad_key")) and configured,
        "last_error": value.get("error") if configured else None,
        "checked_at": value.get("at"),
        "base_url": settings.tmdb_base_url,
        "language": settings.metadata_language,
    }
