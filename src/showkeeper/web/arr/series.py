"""series: list, one, add (from a source URL), edit, delete, lookup."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from showkeeper.context import AppContext
from showkeeper.errors import NotFoundError
from showkeeper.series.catalog import SeriesEntry, series_catalog, series_entry
from showkeeper.series.episodes import series_key
from showkeeper.series.service import delete_series, edit_monitoring
from showkeeper.series.tags import check_tags
from showkeeper.sources import service as sources
from showkeeper.sources.base import SearchResult
from showkeeper.web.arr.base import ArrRoute, CacheDep, JsonResponse, PathId
from showkeeper.web.arr.cache import ResponseCache, cached, invalidate
from showkeeper.web.arr.resources import PROFILE_ID, clean_title, series_resource
from showkeeper.web.deps import CtxDep

router = APIRouter(prefix="/api/v3", route_class=ArrRoute, tags=["sonarr v3"])
Id = Annotated[int, Query(ge=0, le=2**31 - 1)]


def root_of(ctx: AppContext) -> str | None:
    return str(ctx.settings.library_dir) if ctx.settings.library_dir else None


async def one_series(ctx: AppContext, series_id: int) -> dict[str, Any]:
    """The SeriesResource of one series. Raises NotFoundError."""
    entry = await series_entry(ctx.db, series_id, library_dir=ctx.settings.library_dir)
    return series_resource(entry, root=root_of(ctx))


async def series_resources(ctx: AppContext, ids: list[int] | None = None) -> dict[int, Any]:
    """SeriesResources by id (all series, or these)."""
    entries: list[SeriesEntry] = await series_catalog(
        ctx.db, library_dir=ctx.settings.library_dir, series_ids=ids
    )
    root = root_of(ctx)
    return {e.id: series_resource(e, root=root) for e in entries}


@router.get("/series")
async def list_series(
    ctx: CtxDep,
    cache: CacheDep,
    tvdbId: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
    accept_encoding: Annotated[str, Header(include_in_schema=False)] = "",
) -> Response:
    """Every series with statistics, seasons, images and tags (by title)."""
    if tvdbId is not None:
        found = [s for s in (await series_resources(ctx)).values() if s["tvdbId"] == tvdbId]
        return JsonResponse(found)

    async def encoded() -> bytes:
        return orjson.dumps(list((await series_resources(ctx)).values()))

    return await cached(cache, "series", encoded, accept_encoding=accept_encoding)


class SeasonIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    seasonNumber: int = Field(ge=0, le=100_000)
    monitored: bool


class SeriesIn(BaseModel):
    """The fields of a SeriesResource that showkeeper reads; others are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")
    id: int | None = Field(None, ge=0, le=2**31 - 1)
    monitored: bool | None = None
    seasons: list[SeasonIn] | None = Field(None, max_length=10_000)
    tags: list[Annotated[int, Field(ge=0, le=2**31 - 1)]] | None = Field(None, max_length=1000)


class SeriesAdd(SeriesIn):
    sourceUrl: str | None = Field(
        None,
        max_length=4000,
        description="The source to add (feed, channel/playlist or directory URL). Clients "
        "that post a series/lookup result back send it in titleSlug, which is read too.",
    )
    titleSlug: str | None = Field(None, max_length=4000)


@router.get("/series/lookup")
async def lookup(
    ctx: CtxDep, term: Annotated[str, Query(min_length=1, max_length=500)]
) -> JsonResponse:
    """A source URL (the series if already added), or a podcast directory search."""
    text = term.strip()
    if text.startswith(("http://", "https://")):
        known = await sources.series_for_url(ctx, text)
        existing = known.id if known is not None else None
        if existing is not None:
            return JsonResponse([await one_series(ctx, existing)])
        hits = [SearchResult(title=text.split("://", 1)[1][:200], url=text, kind="auto")]
    elif ":" in text.split(" ", 1)[0]:  # tvdb:123 and friends: ids we do not look up
        hits = []
    else:
        hits = await sources.search_sources(ctx, text, limit=20)
    return JsonResponse([_lookup_resource(hit, root_of(ctx)) for hit in hits])


def _lookup_resource(hit: SearchResult, root: str | None) -> dict[str, Any]:
    """A series not added yet: its source URL rides in titleSlug for POST /series."""
    return {
        "title": hit.title,
        "sortTitle": hit.title.lower(),
        "status": "continuing",
        "ended": False,
        "overview": hit.author,
        "network": hit.kind,
        "images": [],
        "remotePoster": hit.image if hit.image and hit.image.startswith("http") else None,
        "seasons": [],
        "year": 0,
        "qualityProfileId": PROFILE_ID,
        "languageProfileId": PROFILE_ID,
        "seasonFolder": True,
        "monitored": True,
        "tvdbId": 0,
        "tmdbId": 0,
        "seriesType": "standard",
        "cleanTitle": clean_title(hit.title),
        "titleSlug": hit.url,
        "rootFolderPath": root,
        "genres": [hit.genre] if hit.genre else [],
        "tags": [],
        "statistics": {
            "seasonCount": 0,
            "episodeFileCount": 0,
            "episodeCount": 0,
            "totalEpisodeCount": hit.episode_count or 0,
            "sizeOnDisk": 0,
            "percentOfEpisodes": 0.0,
        },
    }


@router.get("/series/{series_id}")
async def get_series(series_id: PathId, ctx: CtxDep) -> JsonResponse:
    """One series."""
    return JsonResponse(await one_series(ctx, series_id))


@router.post("/series", status_code=201)
async def add_series(body: SeriesAdd, ctx: CtxDep, cache: CacheDep) -> JsonResponse:
    """Add a series from ``sourceUrl`` (or a lookup result's ``titleSlug``); it loads in the
    background, the created resource is answered at once."""
    url = body.sourceUrl or (
        body.titleSlug
        if body.titleSlug and body.titleSlug.startswith(("http://", "https://"))
        else None
    )
    if not url:
        raise sources.InvalidSourceError(
            "give the source URL in sourceUrl (or a series/lookup result, whose titleSlug is it)"
        )
    if body.tags:
        await check_tags(ctx.db, body.tags)  # before adding: a refused add adds nothing
    row = await sources.start_add(ctx, url)
    invalidate(cache)
    if body.monitored is False or body.tags:
        await edit_monitoring(ctx.db, row.id, monitored=body.monitored, tag_ids=body.tags)
    return JsonResponse(await one_series(ctx, row.id), status_code=201)


async def _edit(
    ctx: AppContext, cache: ResponseCache | None, series_id: int, body: SeriesIn
) -> JsonResponse:
    seasons = {s.seasonNumber: s.monitored for s in body.seasons} if body.seasons else None
    await edit_monitoring(
        ctx.db, series_id, monitored=body.monitored, seasons=seasons, tag_ids=body.tags
    )
    invalidate(cache)
    return JsonResponse(await one_series(ctx, series_id), status_code=202)


@router.put("/series", status_code=202)
async def edit_series_by_body(body: SeriesIn, ctx: CtxDep, cache: CacheDep) -> JsonResponse:
    """Edit the series whose id is in the body (pyarr's and aiopyarr's form)."""
    if not body.id:
        raise NotFoundError("give the series' id in the body, or PUT /api/v3/series/{id}")
    return await _edit(ctx, cache, body.id, body)


@router.put("/series/{series_id}", status_code=202)
async def edit_series(
    series_id: PathId, body: SeriesIn, ctx: CtxDep, cache: CacheDep
) -> JsonResponse:
    """Set monitored, seasons' monitored and tags; path and the rest are read-only."""
    return await _edit(ctx, cache, series_id, body)


@router.delete("/series/{series_id}")
async def remove_series(
    series_id: PathId,
    ctx: CtxDep,
    cache: CacheDep,
    deleteFiles: bool = False,
    addImportListExclusion: bool = False,
) -> JsonResponse:
    """Remove a series; with deleteFiles its folder too."""
    key = await series_key(ctx.db, series_id)
    await delete_series(ctx.db, key, library_dir=ctx.settings.library_dir, files=deleteFiles)
    invalidate(cache)
    return JsonResponse({})
