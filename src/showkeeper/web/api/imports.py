"""Manual import: suggestions for what the scan could not place, and the user's decisions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from showkeeper.library.importer import MAX_DECISIONS, apply_import, import_suggestions
from showkeeper.web.deps import CtxDep

router = APIRouter(tags=["library"])


class Decision(BaseModel):
    action: Literal["map_folder", "import_file"]
    path: str = Field(
        max_length=4096,
        description="map_folder: a top-level library folder. import_file: a path relative to "
        "the library, or absolute inside the library or an import_dirs folder.",
    )
    series_key: str = Field(max_length=200)
    season: int | None = Field(None, ge=0, le=9999, description="import_file: the season.")
    episode: int | None = Field(None, ge=0, le=99999, description="import_file: the episode.")
    rename: bool = Field(True, description="import_file: name it by the series' template.")
    mode: Literal["move", "copy"] = Field("move", description="import_file: move or copy.")


class ImportIn(BaseModel):
    decisions: list[Decision] = Field(min_length=1, max_length=MAX_DECISIONS)


@router.get("/api/library/import")
async def get_import(
    ctx: CtxDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> dict[str, Any]:
    """Unmapped folders and unplaced files, each with suggested series or episodes."""
    return await import_suggestions(ctx, limit=limit)


@router.post("/api/library/import")
async def post_import(body: ImportIn, ctx: CtxDep) -> dict[str, Any]:
    """Apply decisions: all are checked first; a refused one names its file (nothing applied)."""
    return await apply_import(ctx, [d.model_dump() for d in body.decisions])
