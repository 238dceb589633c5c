"""queue: paged records with progress, status, details, cancel (one or in bulk)."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from showkeeper.context import AppContext
from showkeeper.downloads import service
from showkeeper.errors import NotFoundError
from showkeeper.library.mediainfo import MediaInfoCache
from showkeeper.series.episodes import episodes_by_ids
from showkeeper.web.arr.base import ArrRoute, JsonResponse, MediaDep, PathId, page_window
from showkeeper.web.arr.episodes import episode_resources
from showkeeper.web.arr.resources import queue_resource
from showkeeper.web.arr.series import series_resources
from showkeeper.web.deps import CtxDep

router = APIRouter(prefix="/api/v3", route_class=ArrRoute, tags=["sonarr v3"])
Page = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(ge=1, le=2**31 - 1)]


async def records(
    ctx: AppContext,
    media: MediaInfoCache | None,
    page: service.QueuePage,
    *,
    include_series: bool,
    include_episode: bool,
) -> list[dict[str, Any]]:
    episodes = await episodes_by_ids(ctx.db, [i.episode_id for i in page.items])
    by_id = {e.id: e for e in episodes}
    series = (
        await series_resources(ctx, sorted({e.series_id for e in episodes}))
        if include_series and episodes
        else {}
    )
    shaped = (
        {e["id"]: e for e in await episode_resources(ctx, media, episodes)}
        if include_episode
        else {}
    )
    out = []
    for item in page.items:
        ep = by_id.get(item.episode_id)
        if ep is None:  # removed with its series since the page was read
            continue
        out.append(
            queue_resource(
                item,
                series_id=ep.series_id,
                paused=page.state != "running",
                series=series.get(ep.series_id),
                episode=shaped.get(ep.id),
            )
        )
    return out


@router.get("/queue")
async def queue(
    ctx: CtxDep,
    media: MediaDep,
    page: Page = 1,
    pageSize: PageSize = 10,
    sortKey: Annotated[str | None, Query(max_length=100)] = None,
    sortDirection: Annotated[str | None, Query(max_length=20)] = None,
    includeUnknownSeriesItems: bool = False,
    includeSeries: bool = False,
    includeEpisode: bool = False,
) -> JsonResponse:
    """Downloads under way, waiting and failed, paged (downloading first, then claim order)."""
    offset, limit = page_window(page, pageSize)
    found = await service.queue_page(ctx, offset=offset, limit=limit)
    return JsonResponse(
        {
            "page": page,
            "pageSize": limit,
            "sortKey": sortKey or "timeleft",
            "sortDirection": "ascending",
            "totalRecords": found.total,
            "records": await records(
                ctx, media, found, include_series=includeSeries, include_episode=includeEpisode
            ),
        }
    )


@router.get("/queue/status")
async def queue_status(ctx: CtxDep) -> JsonResponse:
    """How many downloads are under way or waiting, and whether any failed."""
    found = await service.queue_page(ctx, offset=0, limit=1)
    return JsonResponse(
        {
            "id": 1,
            "totalCount": found.total,
            "count": found.total,
            "unknownCount": 0,
            "errors": found.counts.get("failed", 0) > 0,
            "warnings": found.state != "running",
            "unknownErrors": False,
            "unknownWarnings": False,
        }
    )


@router.get("/queue/details")
async def queue_details(
    ctx: CtxDep,
    media: MediaDep,
    seriesId: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
    episodeIds: Annotated[
        list[Annotated[int, Field(ge=0, le=2**31 - 1)]] | None, Query(max_length=1000)
    ] = None,
    includeSeries: bool = False,
    includeEpisode: bool = True,
    includeUnknownSeriesItems: bool = False,
) -> JsonResponse:
    """Every queue record (first 1,000), optionally of one series or some episodes."""
    found = await service.queue_page(ctx, offset=0, limit=1000)
    out = await records(
        ctx, media, found, include_series=includeSeries, include_episode=includeEpisode
    )
    if seriesId is not None:
        out = [r for r in out if r["seriesId"] == seriesId]
    if episodeIds:
        wanted = set(episodeIds)
        out = [r for r in out if r["episodeId"] in wanted]
    return JsonResponse(out)


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    ids: list[Annotated[int, Field(ge=0, le=2**31 - 1)]] = Field(min_length=1, max_length=1000)


@router.delete("/queue/bulk")
async def remove_bulk(
    body: BulkIn,
    ctx: CtxDep,
    removeFromClient: bool = True,
    blocklist: bool = False,
    skipRedownload: bool = False,
    changeCategory: bool = False,
) -> JsonResponse:
    """Cancel (or remove, once finished) several queue items; ids no longer in the queue are
    skipped, as Sonarr does."""
    for item_id in dict.fromkeys(body.ids):
        with contextlib.suppress(NotFoundError):
            await service.remove_item(ctx, item_id)
    return JsonResponse({})


@router.delete("/queue/{item_id}")
async def remove(
    item_id: PathId,
    ctx: CtxDep,
    removeFromClient: bool = True,
    blocklist: bool = False,
    skipRedownload: bool = False,
    changeCategory: bool = False,
) -> JsonResponse:
    """Cancel a queued or running download (a finished item is removed)."""
    await service.remove_item(ctx, item_id)
    return JsonResponse({})
