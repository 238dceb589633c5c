"""Library routes: start a rescan, list unmapped folders, unparsed files and missing episodes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field

from showkeeper.library.lock import scan_state
from showkeeper.library.service import library_issues, start_scan
from showkeeper.series.missing import missing_episodes
from showkeeper.web.deps import CtxDep, DbDep, SettingsDep

router = APIRouter(tags=["library"])

Limit = Annotated[int, Query(ge=1, le=5000, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")]


class RescanRequest(BaseModel):
    series_key: str | None = Field(None, description="Rescan only this series' folder.")
    force: bool = Field(False, description="Read every folder, even those that look unchanged.")


@router.post("/api/series/rescan", status_code=202)
async def rescan(
    ctx: CtxDep, body: Annotated[RescanRequest | None, Body()] = None
) -> dict[str, Any]:
    """Start a library scan (all series, or one) in the background; progress comes as events."""
    request = body or RescanRequest()
    scan_id = await start_scan(ctx, series_key=request.series_key, force=request.force)
    return {"status": "started", "scan_id": scan_id, "series_key": request.series_key}


@router.get("/api/library/scan")
async def scan_status(db: DbDep) -> dict[str, Any]:
    """The running scan (null when none) and the last finished scan's summary."""
    running, last = await scan_state(db)
    return {"running": running, "last": last}


@router.get("/api/library/unmapped")
async def unmapped(
    db: DbDep, settings: SettingsDep, limit: Limit = 500, offset: Offset = 0
) -> dict[str, Any]:
    """Series folders no series is matched to (name, path, why)."""
    total, items = await library_issues(
        db, settings.library_dir, unmapped=True, limit=limit, offset=offset
    )
    return {"total": total, "items": items}


@router.get("/api/library/unparsed")
async def unparsed(
    db: DbDep,
    settings: SettingsDep,
    series_folder: Annotated[str | None, Query(description="Only this series folder.")] = None,
    limit: Limit = 500,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Files and folders the scan could not use: unparsed or unmatched names, duplicates,
    unreadable folders, names that are not UTF-8, symlink loops."""
    total, items = await library_issues(
        db,
        settings.library_dir,
        unmapped=False,
        series_folder=series_folder,
        limit=limit,
        offset=offset,
    )
    return {"total": total, "items": items}


@router.get("/api/library/missing")
async def missing(
    db: DbDep,
    series_key: Annotated[str | None, Query(description="Only this series.")] = None,
) -> dict[str, Any]:
    """Monitored, aired episodes known at the source, not on disk and not queued."""
    items = await missing_episodes(db, series_key=series_key)
    return {"total": len(items), "items": [m.as_dict() for m in items]}
