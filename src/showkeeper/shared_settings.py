"""Settings every process must share, in the database: the API process writes them whenever
config.json changes (API, setup, restore), and every process (the server, each
`showkeeper worker`) applies them at start and again within seconds of a change, without a
restart. A variable in a process's own environment still wins there, as it does everywhere.

Only these keys are shared; the rest (host, port, logging, database_url, data_dir) belong to
each process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from showkeeper.config import (
    Settings,
    SettingsError,
    env_name,
    read_config_json,
    validate_values,
)
from showkeeper.context import AppContext
from showkeeper.db import Database
from showkeeper.db.models import SystemSetting
from showkeeper.logging import get_logger

log = get_logger(__name__)

KEY = "shared_settings"
SHARED_KEYS = frozenset(
    {
        "library_dir",
        "download_concurrency",
        "download_per_host_concurrency",
        "download_per_host_delay_s",
        "download_host_recovery_s",
        "download_max_attempts",
        "download_retry_base_s",
        "download_retry_max_s",
        "download_lease_s",
        "download_connections",
        "max_resolution",
        "allowed_private_networks",
        "source_timeout_s",
        "source_max_response_mb",
        "tmdb_api_key",
        "tmdb_base_url",
        "notification_urls",
        "notify_on_complete",
        "notify_on_new_episodes",
    }
)
POLL_S = 2.0


def shared_subset(config_values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config_values.items() if k in SHARED_KEYS}


async def store_shared(session: AsyncSession, values: dict[str, Any]) -> None:
    """Replace the shared settings (the shared keys of config.json) in the caller's
    transaction."""
    row = await session.get(SystemSetting, KEY)
    value = {"values": shared_subset(values)}
    if row is None:
        session.add(SystemSetting(key=KEY, value=value))
    elif row.value != value:
        row.value = value


async def load_shared(db: Database) -> dict[str, Any]:
    async with db.session() as s:
        value = await s.scalar(select(SystemSetting.value).where(SystemSetting.key == KEY))
    values = value.get("values") if isinstance(value, dict) else None
    return dict(values) if isinstance(values, dict) else {}


def overlay(settings: Settings, shared: dict[str, Any]) -> tuple[Settings, list[str]]:
    """`settings` with the shared values its environment does not set; and what changed."""
    wanted = {k: v for k, v in shared.items() if k in SHARED_KEYS and env_name(k) not in os.environ}
    try:
        validated = validate_values(wanted, settings.data_dir)
    except SettingsError as exc:
        log.warning(
            "shared settings in the database are invalid; kept the current ones", error=str(exc)
        )
        return settings, []
    update = {k: getattr(validated, k) for k in wanted}
    changed = sorted(k for k, v in update.items() if getattr(settings, k) != v)
    if not changed:
        return settings, []
    return settings.model_copy(update={k: update[k] for k in changed}), changed


class SharedSettingsSync:
    """Service: applies the shared settings to ctx.settings at start and every POLL_S."""

    name = "shared-settings"

    def __init__(self, ctx: AppContext, *, publish: bool = False, poll_s: float = POLL_S) -> None:
        self.ctx = ctx
        self.publish = publish
        self.poll_s = poll_s
        self._task: asyncio.Task[None] | None = None
        self._seen: dict[str, Any] | None = None

    async def start(self) -> None:
        if self.publish:  # the API process: its config.json is the source
            values = await asyncio.to_thread(read_config_json, self.ctx.settings.config_path)
            async with self.ctx.db.write() as s:
                await store_shared(s, values)
        await self.apply()
        self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def apply(self) -> list[str]:
        shared = await load_shared(self.ctx.db)
        if shared == self._seen:
            return []
        self._seen = shared
        self.ctx.settings, changed = overlay(self.ctx.settings, shared)
        if changed:
            log.info("shared settings applied", keys=changed)
        return changed

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                await self.apply()
            except Exception as exc:  # the database may be away for a moment
                log.warning("could not read the shared settings", error=str(exc))
