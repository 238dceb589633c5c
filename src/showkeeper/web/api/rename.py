"""Rename a series' files to its naming scheme, and undo the latest rename."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from showkeeper.library.rename import apply_rename, latest_batch, plan_rename, undo_rename
from showkeeper.library.service import library_root
from showkeeper.web.deps import DbDep, RowIdPath, SettingsDep

router = APIRouter(tags=["rename"])


@router.get("/api/series/{key}/rename")
async def get_rename(key: str, db: DbDep, settings: SettingsDep) -> dict[str, Any]:
    """What a rename would move (old -> new, NFO and thumbnails included) and any conflicts."""
    plan = await plan_rename(db, library_root(settings), key)
    return {**plan.as_dict(), "last_rename": await latest_batch(db, key)}


@router.post("/api/series/{key}/rename")
async def post_rename(key: str, db: DbDep, settings: SettingsDep) -> dict[str, Any]:
    """Rename now; 409 with the files concerned on a conflict (nothing moves)."""
    return await apply_rename(db, library_root(settings), key)


@router.post("/api/rename/{batch_id}/undo")
async def post_undo(batch_id: RowIdPath, db: DbDep, settings: SettingsDep) -> dict[str, Any]:
    """Move the files back (the series' latest rename only)."""
    return await undo_rename(db, library_root(settings), batch_id)
