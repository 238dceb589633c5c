"""Settings: read (secrets masked), change, validate, list and restore backups."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from showkeeper.config import SettingsError, validate_values
from showkeeper.metadata.status import tmdb_status
from showkeeper.web.config_apply import (
    ApplyResult,
    mask,
    restore_backup,
    settings_view,
    store_for,
    update_config,
)
from showkeeper.web.deps import CtxDep

router = APIRouter(prefix="/api/config", tags=["config"])


class ConfigOut(BaseModel):
    settings: dict[str, Any] = Field(description="The settings in effect (secrets masked).")
    stored: dict[str, Any] = Field(description="What config.json holds (secrets masked).")
    tmdb: dict[str, Any] = Field(
        default_factory=dict,
        description="TMDB at its last use: configured, status, bad_key (HTTP 401), last_error.",
    )


class ConfigIn(BaseModel):
    values: dict[str, Any] = Field(
        description="Settings to store in config.json; null removes a key (back to the default)."
    )


class ApplyOut(BaseModel):
    changed: list[str]
    applied: list[str] = Field(description="Changed and in effect now.")
    overridden_by_env: list[str] = Field(description="Stored, but an environment variable wins.")
    restart_required: list[str] = Field(description="Stored; in effect after a restart.")
    backup: str | None = Field(description="The backup of the previous config.json, if any.")


class ValidateOut(BaseModel):
    valid: bool
    error: str | None = None


class BackupOut(BaseModel):
    name: str
    size: int
    created_at: datetime


def _out(result: ApplyResult) -> ApplyOut:
    return ApplyOut(**result.__dict__)


@router.get("")
async def get_config(ctx: CtxDep) -> ConfigOut:
    """The settings in effect and what config.json holds; secrets are masked."""
    stored = await asyncio.to_thread(store_for(ctx.settings).read)
    return ConfigOut(
        settings=settings_view(ctx.settings),
        stored=mask(stored),
        tmdb=await tmdb_status(ctx.settings, ctx.db),
    )


@router.put("")
async def put_config(body: ConfigIn, ctx: CtxDep) -> ApplyOut:
    """Store settings in config.json (validated, previous file backed up) and apply them."""
    return _out(await update_config(ctx, body.values))


@router.post("/validate")
async def validate_config(body: ConfigIn, ctx: CtxDep) -> ValidateOut:
    """Check values as PUT would store them, without storing anything."""
    stored = await asyncio.to_thread(store_for(ctx.settings).read)
    merged = {**stored, **{k: v for k, v in body.values.items() if v is not None}}
    for key, value in body.values.items():
        if value is None:
            merged.pop(key, None)
    try:
        validate_values(merged, ctx.settings.data_dir)
    except SettingsError as exc:
        return ValidateOut(valid=False, error=str(exc))
    return ValidateOut(valid=True)


@router.get("/backups")
async def list_backups(ctx: CtxDep) -> list[BackupOut]:
    """Backups of config.json, newest first."""
    found = await asyncio.to_thread(store_for(ctx.settings).list_backups)
    return [BackupOut(name=b.name, size=b.size, created_at=b.created_at) for b in found]


@router.post("/backups/{name}/restore")
async def restore(name: str, ctx: CtxDep) -> ApplyOut:
    """Make a backup the current config.json (the current one is backed up first)."""
    return _out(await restore_backup(ctx, name))
