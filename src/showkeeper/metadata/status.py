"""TMDB's health as the loader last saw it (system_settings "metadata.tmdb"), for
/health/detailed, the settings and the System page: configured, reachable, the last error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from showkeeper.config import Settings
from showkeeper.db import Database
from showkeeper.db.models import SystemSetting

KEY = "metadata.tmdb"


async def save_tmdb_status(db: Database, *, ok: bool, error: str | None, auth: bool) -> None:
    value = {
        "ok": ok,
        "error": error,
        "bad_key": auth,
        "at": datetime.now(UTC).isoformat(),
    }
    async with db.write() as s:
        await s.merge(SystemSetting(key=KEY, value=value))


async def record_tmdb(db: Database, *, requests: int, error: str | None, auth: bool) -> None:
    """Store the outcome of a load's TMDB calls (nothing when none were made)."""
    if not requests:
        return
    failed = error is not None and not error.startswith("no confident TMDB match")
    await save_tmdb_status(db, ok=not failed, error=error if failed else None, auth=auth)


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
