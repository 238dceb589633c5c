"""Change settings at run time: write config.json (validated, backed up) and update the
running ctx.settings with what can change without a restart.
"""

from __future__ import annotations

import asyncio
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from showkeeper.config import (
    NOT_STORABLE,
    Settings,
    SettingsError,
    check_library_dir,
    env_name,
    public_view,
    validate_values,
)
from showkeeper.config_store import ConfigStore
from showkeeper.context import AppContext, ensure_writable_dir
from showkeeper.errors import StartupError
from showkeeper.shared_settings import store_shared

MASK = "********"
SECRET_FIELDS = frozenset({"tmdb_api_key", "notification_urls"})
# read once at start: a change is stored and takes effect at the next start
RESTART_REQUIRED = frozenset({"host", "port", "database_url", "log_level", "log_format"})
_lock = threading.Lock()


@dataclass
class ApplyResult:
    changed: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    overridden_by_env: list[str] = field(default_factory=list)
    restart_required: list[str] = field(default_factory=list)
    backup: str | None = None


def store_for(settings: Settings) -> ConfigStore:
    return ConfigStore(settings.data_dir, keep=settings.config_backups_keep)


def _mask_url(url: str) -> str:
    scheme, sep, _rest = str(url).partition("://")
    return f"{scheme}://{MASK}" if sep else MASK


def mask(values: dict[str, Any]) -> dict[str, Any]:
    """Secrets replaced by a mask (notification URLs keep their scheme)."""
    out = dict(values)
    if out.get("tmdb_api_key"):
        out["tmdb_api_key"] = MASK
    if isinstance(out.get("notification_urls"), list):
        out["notification_urls"] = [_mask_url(u) for u in out["notification_urls"]]
    elif out.get("notification_urls"):
        out["notification_urls"] = MASK
    if isinstance(out.get("database_url"), str) and "@" in out["database_url"]:
        out["database_url"] = public_view_url(out["database_url"])
    return out


def public_view_url(url: str) -> str:
    import re

    return re.sub(r"//([^:/@]+):[^@]*@", rf"//\1:{MASK}@", url)


def settings_view(settings: Settings) -> dict[str, Any]:
    return mask(public_view(settings))


def prepare_library_dir(raw: str | Path) -> Path:
    """An absolute, existing (created if needed) and writable library folder.

    Raises:
        SettingsError: relative path, or the folder cannot be created or written.
    """
    path = check_library_dir(raw)
    try:
        ensure_writable_dir(path, "library_dir")
    except StartupError as exc:
        raise SettingsError(str(exc)) from None
    return path


def _is_masked(value: Any) -> bool:
    if value == MASK:
        return True
    return isinstance(value, list) and any(isinstance(v, str) and MASK in v for v in value)


def _write(
    store: ConfigStore, changes: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    with _lock:
        before = store.read()
        after = dict(before)
        for key, value in changes.items():
            if key in SECRET_FIELDS and _is_masked(value):
                continue  # the masked value came back unchanged: keep the stored secret
            if value is None:
                after.pop(key, None)
            else:
                after[key] = value
        backup = store.write(after) if after != before else None
        return before, after, backup.name if backup else None


async def update_config(
    ctx: AppContext, changes: dict[str, Any], *, session: AsyncSession | None = None
) -> ApplyResult:
    """Set (or, with None, unset) keys of config.json and apply them to the running server.

    ``session``: a write transaction of the caller's (setup) that the shared settings join.

    Raises:
        SettingsError: an unknown key, an invalid value or an unusable library folder;
            nothing is written then.
    """
    # the same check as every other writer, before anything (a folder) is created
    validate_values(
        {k: v for k, v in changes.items() if v is not None and not _is_masked(v)},
        ctx.settings.data_dir,
    )
    if changes.get("library_dir") is not None:
        path = await asyncio.to_thread(prepare_library_dir, changes["library_dir"])
        changes = {**changes, "library_dir": str(path)}
    store = store_for(ctx.settings)
    before, after, backup = await asyncio.to_thread(_write, store, changes)
    await _share(ctx, after, session)
    result = apply_running(ctx, before, after)
    result.backup = backup
    return result


async def _share(ctx: AppContext, after: dict[str, Any], session: AsyncSession | None) -> None:
    """The shared keys go to the database, for every worker process (shared_settings.py)."""
    if session is not None:
        await store_shared(session, after)
        return
    async with ctx.db.write() as s:
        await store_shared(s, after)


async def restore_backup(ctx: AppContext, name: str) -> ApplyResult:
    """Make a backup the current config.json and apply it. Raises SettingsError."""
    store = store_for(ctx.settings)

    def _restore() -> tuple[dict[str, Any], dict[str, Any], str | None]:
        with _lock:
            before = store.read()
            backup = store.restore(name)
            return before, store.read(), backup.name if backup else None

    before, after, backup = await asyncio.to_thread(_restore)
    await _share(ctx, after, None)
    result = apply_running(ctx, before, after)
    result.backup = backup
    return result


def apply_running(ctx: AppContext, before: dict[str, Any], after: dict[str, Any]) -> ApplyResult:
    """Update ctx.settings for the keys that changed between two config.json contents."""
    result = ApplyResult()
    result.changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    validated = validate_values(after, ctx.settings.data_dir)
    update: dict[str, Any] = {}
    for key in result.changed:
        if key not in Settings.model_fields or key in NOT_STORABLE:
            continue
        if env_name(key) in os.environ:
            result.overridden_by_env.append(key)
        elif key in RESTART_REQUIRED:
            result.restart_required.append(key)
        else:
            update[key] = getattr(validated, key)
            result.applied.append(key)
    if update:
        ctx.settings = ctx.settings.model_copy(update=update)
    return result
