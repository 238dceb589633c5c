"""Retention rules (global and per series), runs with a dry run, and undoing "ignored"."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from showkeeper.library.retention import (
    retention_settings,
    run_retention,
    series_retention,
    set_retention,
    set_series_retention,
    unignore,
)
from showkeeper.library.service import library_root
from showkeeper.web.deps import DbDep, RowId, SettingsDep

router = APIRouter(tags=["retention"])


class RuleIn(BaseModel):
    # 0 passes the bounds so the rules' own check can say why it is refused
    keep_newest: int | None = Field(
        None,
        ge=0,
        le=1_000_000,
        description="Keep the newest N episodes (at least 1); null: no limit.",
    )
    max_age_days: int | None = Field(
        None,
        ge=0,
        le=36_500,
        description="Remove episodes older than D days (at least 1); null: no limit.",
    )
    by: Literal["air_date", "downloaded"] = Field(
        "air_date", description="Count age and order by air date or by download date."
    )


class GlobalRuleIn(RuleIn):
    max_share: float | None = Field(
        None,
        description="Safety floor: the largest share of a series' files one run removes "
        "without confirmation (default 0.5).",
    )


class SeriesRuleIn(RuleIn):
    inherit: bool = Field(False, description="Use the global rule (the other fields are ignored).")


class RunIn(BaseModel):
    dry_run: bool = Field(True, description="Only list what would be removed.")
    confirm: bool = Field(False, description="Go past the safety floor.")


class UnignoreIn(BaseModel):
    episode_ids: list[RowId] | None = Field(
        None, max_length=100000, description="These episodes; null: every ignored one."
    )


@router.get("/api/retention")
async def get_retention(db: DbDep) -> dict[str, Any]:
    """The global rule and the safety floor."""
    return await retention_settings(db)


@router.put("/api/retention")
async def put_retention(body: GlobalRuleIn, db: DbDep) -> dict[str, Any]:
    """Set the global rule (0 or a negative count is refused) and/or the safety floor."""
    values = body.model_dump(exclude_unset=True)
    if values.get("max_share") is None:
        values.pop("max_share", None)
    return await set_retention(db, values)


@router.post("/api/retention/run")
async def run_all(body: RunIn, db: DbDep, settings: SettingsDep) -> dict[str, Any]:
    """Run every series' rule (or list what it would remove)."""
    results = await run_retention(
        db, library_root(settings), dry_run=body.dry_run, confirm=body.confirm
    )
    return {"results": [r.as_dict() for r in results]}


@router.get("/api/series/{key}/retention")
async def get_series_retention(key: str, db: DbDep, settings: SettingsDep) -> dict[str, Any]:
    """The series' rule and what it would remove now (a dry run)."""
    rule = await series_retention(db, key)
    [plan] = await run_retention(db, library_root(settings), series_key=key, dry_run=True)
    return {**rule, "dry_run": plan.as_dict()}


@router.put("/api/series/{key}/retention")
async def put_series_retention(key: str, body: SeriesRuleIn, db: DbDep) -> dict[str, Any]:
    """Give the series its own rule, or go back to the global one (inherit)."""
    values = body.model_dump(exclude_unset=True)
    if values.get("inherit"):
        values = {"inherit": True}
    return await set_series_retention(db, key, values)


@router.post("/api/series/{key}/retention/run")
async def run_one(key: str, body: RunIn, db: DbDep, settings: SettingsDep) -> dict[str, Any]:
    """Run the series' rule; past the safety floor only with confirm."""
    [result] = await run_retention(
        db, library_root(settings), series_key=key, dry_run=body.dry_run, confirm=body.confirm
    )
    return result.as_dict()


@router.post("/api/series/{key}/unignore")
async def post_unignore(key: str, body: UnignoreIn, db: DbDep) -> dict[str, Any]:
    """Undo "ignored": the episodes may be missing (and downloaded) again."""
    return {"series_key": key, "unignored": await unignore(db, key, body.episode_ids)}
