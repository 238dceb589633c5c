"""Naming settings: the global templates, a series' own, and a preview against its episodes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from showkeeper.library.naming import (
    naming_settings,
    preview,
    series_naming,
    set_naming,
    set_series_naming,
)
from showkeeper.web.deps import DbDep

router = APIRouter(tags=["naming"])


class NamingIn(BaseModel):
    series_folder: str | None = Field(
        None,
        max_length=500,
        description='e.g. "{series} ({year})"; null keeps folders as they are.',
    )
    season_folder: str | None = Field(
        None, max_length=500, description='e.g. "Season {season:02d}"; "" for no season folders.'
    )
    episode: str | None = Field(
        None,
        max_length=500,
        description='e.g. "{series} - S{season:02d}E{episode:02d} - {title}" (no extension).',
    )


class PreviewIn(NamingIn):
    series_key: str = Field(max_length=200, description="Whose episodes to render.")
    limit: int = Field(50, ge=1, le=500, description="How many of its newest episodes.")


@router.get("/api/naming")
async def get_naming(db: DbDep) -> dict[str, Any]:
    """The global templates, their defaults and the documented fields."""
    return await naming_settings(db)


@router.put("/api/naming")
async def put_naming(body: NamingIn, db: DbDep) -> dict[str, Any]:
    """Change the global templates that are given (validated; a refused one changes nothing)."""
    scheme = await set_naming(db, body.model_dump(exclude_unset=True))
    return {"naming": scheme.as_dict()}


@router.post("/api/naming/preview")
async def post_preview(body: PreviewIn, db: DbDep) -> dict[str, Any]:
    """Render templates (the given ones over the series' own) against the series' episodes."""
    values = body.model_dump(exclude_unset=True, exclude={"series_key", "limit"})
    return await preview(db, body.series_key, values, limit=body.limit)


@router.get("/api/series/{key}/naming")
async def get_series_naming(key: str, db: DbDep) -> dict[str, Any]:
    """The series' own templates (null: the global one) and the effective ones."""
    return await series_naming(db, key)


@router.put("/api/series/{key}/naming")
async def put_series_naming(key: str, body: NamingIn, db: DbDep) -> dict[str, Any]:
    """Set the series' own templates; null goes back to the global one."""
    return await set_series_naming(db, key, body.model_dump(exclude_unset=True))
