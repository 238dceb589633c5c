"""Series: list (counts, paging, sorting, filters), details, edit, delete.

POST /api/series and the loading/refresh routes live in web/api/sources.py; rescan in
web/api/library.py. Literal paths there are matched before /api/series/{key} (app.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from showkeeper.series.service import (
    EpisodeState,
    SeriesQuery,
    SortField,
    delete_series,
    get_series,
    list_series,
    update_series,
)
from showkeeper.web.deps import CtxDep, DbDep

router = APIRouter(prefix="/api/series", tags=["series"])


class SeriesOut(BaseModel):
    key: str
    folder: str
    name: str
    year: int | None
    source_kind: str
    source_url: str | None
    monitored: bool
    overview: str | None
    language: str | None
    image_url: str | None
    loading_status: str
    loading_error: str | None
    options: dict[str, Any]
    episode_count: int
    downloaded_count: int
    missing_count: int
    created_at: dt.datetime
    updated_at: dt.datetime
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="TMDB match, the metadata loader's steps and errors, artwork URLs.",
    )


class EpisodeOut(BaseModel):
    id: int
    season: int
    episode: int
    absolute_number: int | None
    title: str | None
    air_date: dt.date | None
    duration_s: int | None
    at_source: bool
    monitored: bool
    filtered: bool = Field(description="Rejected by the series' filters; never missing.")
    ignored: bool = Field(
        False,
        description="Removed by retention (or ignored by hand); never missing until "
        "POST /api/series/{key}/unignore.",
    )
    state: EpisodeState = Field(
        description="on_disk, downloading, queued, ignored, failed (see state_reason), "
        "missing, filtered, unmonitored or upcoming."
    )
    state_reason: str | None = Field(None, description="Why the last download failed.")
    is_downloaded: bool
    file_path: str | None
    size: int | None


class SeriesDetailOut(SeriesOut):
    episodes: list[EpisodeOut]


class SeriesPage(BaseModel):
    items: list[SeriesOut]
    total: int
    page: int
    page_size: int


class SeriesOptionsIn(BaseModel):
    include: str | None = Field(
        None, max_length=500, description="Keep titles matching this regex."
    )
    exclude: str | None = Field(
        None, max_length=500, description="Drop titles matching this regex."
    )
    not_before: dt.date | None = Field(None, description="Drop episodes aired before this date.")
    min_duration_s: int | None = Field(None, ge=0, le=7 * 24 * 3600)
    max_duration_s: int | None = Field(None, ge=0, le=7 * 24 * 3600)


class SeriesPatch(BaseModel):
    monitored: bool | None = None
    options: SeriesOptionsIn | None = Field(
        None, description="Filters to set; a null value removes that filter."
    )


class DeletedOut(BaseModel):
    deleted: str
    files_deleted: bool


@router.get("")
async def list_all(
    db: DbDep,
    page: int = Query(1, ge=1, le=1_000_000),
    page_size: int = Query(50, ge=1, le=500),
    sort: SortField = "name",
    order: Literal["asc", "desc"] = "asc",
    q: str | None = Query(None, max_length=200, description="Part of the name or key."),
    monitored: bool | None = None,
    source_kind: str | None = Query(None, max_length=50),
    loading_status: str | None = Query(None, max_length=40),
    has_missing: bool | None = None,
) -> SeriesPage:
    """Series with episode, downloaded and missing counts; paged, sorted and filtered."""
    query = SeriesQuery(
        page=page,
        page_size=page_size,
        sort=sort,
        order=order,
        q=q,
        monitored=monitored,
        source_kind=source_kind,
        loading_status=loading_status,
        has_missing=has_missing,
    )
    total, items = await list_series(db, query)
    return SeriesPage(
        items=[SeriesOut(**i) for i in items], total=total, page=page, page_size=page_size
    )


@router.get("/{key}")
async def get_one(key: str, db: DbDep) -> SeriesDetailOut:
    """A series by key (or by folder name) with its episodes."""
    return SeriesDetailOut(**await get_series(db, key))


@router.patch("/{key}")
async def patch(key: str, body: SeriesPatch, db: DbDep) -> SeriesDetailOut:
    """Monitor or unmonitor; set or clear filters (include/exclude regex, not_before, durations)."""
    options = None
    if body.options is not None:
        options = body.options.model_dump(mode="json", exclude_unset=True)
    return SeriesDetailOut(
        **await update_series(db, key, monitored=body.monitored, options=options)
    )


@router.delete("/{key}")
async def remove(
    key: str,
    ctx: CtxDep,
    delete_files: bool = Query(False, description="Also delete the series folder."),
) -> DeletedOut:
    """Remove a series; with delete_files its folder in the library is deleted too."""
    files = await delete_series(
        ctx.db, key, library_dir=ctx.settings.library_dir, files=delete_files
    )
    return DeletedOut(deleted=key, files_deleted=files)
