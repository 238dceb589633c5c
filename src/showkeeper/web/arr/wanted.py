"""wanted/missing, calendar, history (paged) and history/series."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Header, Query
from starlette.responses import Response

from showkeeper.downloads.history import HistoryEntry, history_page
from showkeeper.errors import ShowkeeperError
from showkeeper.series.episodes import episodes_between, episodes_by_ids, series_episodes
from showkeeper.series.missing import MissingSort, missing_page
from showkeeper.web.arr.base import (
    ArrRoute,
    CacheDep,
    JsonResponse,
    MediaDep,
    page_window,
)
from showkeeper.web.arr.cache import cached
from showkeeper.web.arr.episodes import episode_resources
from showkeeper.web.arr.resources import history_resource
from showkeeper.web.arr.series import series_resources
from showkeeper.web.deps import CtxDep

router = APIRouter(prefix="/api/v3", route_class=ArrRoute, tags=["sonarr v3"])
Page = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(ge=1, le=2**31 - 1)]
Direction = Literal["default", "ascending", "descending"]
MISSING_SORT: dict[str, MissingSort] = {
    "airdateutc": "air_date",
    "airdate": "air_date",
    "episodes.airdateutc": "air_date",
    "series.title": "series",
    "series.sorttitle": "series",
    "seriestitle": "series",
    "episode": "episode",
    "episodes.episodenumber": "episode",
}
MAX_CALENDAR_DAYS = 3660


@router.get("/wanted/missing")
async def missing(
    ctx: CtxDep,
    media: MediaDep,
    cache: CacheDep,
    page: Page = 1,
    pageSize: PageSize = 10,
    sortKey: Annotated[str | None, Query(max_length=100)] = None,
    sortDirection: Direction = "default",
    includeSeries: bool = False,
    includeImages: bool = False,
    monitored: bool = True,
    accept_encoding: Annotated[str, Header(include_in_schema=False)] = "",
) -> Response:
    """Missing episodes (series/missing.py), newest air date first unless sorted otherwise."""
    offset, limit = page_window(page, pageSize)
    sort = MISSING_SORT.get((sortKey or "airDateUtc").lower(), "air_date")
    descending = sortDirection == "descending" or (
        sortDirection == "default" and sort == "air_date"
    )

    async def encoded() -> bytes:
        total, found = await missing_page(
            ctx.db,
            offset=offset,
            limit=limit,
            sort=sort,
            descending=descending,
            monitored=monitored,
        )
        records = await episode_resources(ctx, media, found, include_series=includeSeries)
        return orjson.dumps(
            {
                "page": page,
                "pageSize": limit,
                "sortKey": sortKey or "airDateUtc",
                "sortDirection": "descending" if descending else "ascending",
                "totalRecords": total,
                "records": records,
            }
        )

    key = ("missing", page, limit, sortKey, sort, descending, monitored, includeSeries)
    return await cached(cache, key, encoded, accept_encoding=accept_encoding)


def _day(value: str | None, default: date) -> date:
    """A date or a date-time as clients send them (``2024-05-01``, ``...T00:00:00Z``)."""
    if not value:
        return default
    text = value.strip()
    try:
        if len(text) <= 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise ShowkeeperError(f"not a date: {text[:40]!r}; send YYYY-MM-DD") from None


@router.get("/calendar")
async def calendar(
    ctx: CtxDep,
    media: MediaDep,
    start: Annotated[str | None, Query(max_length=40)] = None,
    end: Annotated[str | None, Query(max_length=40)] = None,
    unmonitored: bool = False,
    includeSeries: bool = False,
    includeEpisodeFile: bool = False,
    includeEpisodeImages: bool = False,
    tags: Annotated[str | None, Query(max_length=1000)] = None,
) -> JsonResponse:
    """Episodes airing between start and end (default: today and tomorrow)."""
    today = datetime.now(UTC).date()
    first = _day(start, today)
    last = _day(end, first + timedelta(days=2))
    if last < first or (last - first).days > MAX_CALENDAR_DAYS:
        raise ShowkeeperError(f"end must follow start, at most {MAX_CALENDAR_DAYS} days later")
    found = await episodes_between(ctx.db, first, last, unmonitored=unmonitored)
    return JsonResponse(
        await episode_resources(
            ctx, media, found, include_series=includeSeries, include_file=includeEpisodeFile
        )
    )


async def _history_records(
    ctx: Any,
    media: Any,
    entries: list[HistoryEntry],
    *,
    include_series: bool,
    include_episode: bool,
) -> list[dict[str, Any]]:
    ids = sorted({h.series_id for h in entries if h.series_id})
    series = await series_resources(ctx, ids) if include_series and ids else {}
    episodes: dict[int, Any] = {}
    if include_episode:
        eps = await episodes_by_ids(ctx.db, [h.episode_id for h in entries if h.episode_id])
        episodes = {e["id"]: e for e in await episode_resources(ctx, media, eps)}
    return [
        history_resource(
            h,
            series=series.get(h.series_id or 0),
            episode=episodes.get(h.episode_id or 0),
        )
        for h in entries
    ]


@router.get("/history")
async def history(
    ctx: CtxDep,
    media: MediaDep,
    page: Page = 1,
    pageSize: PageSize = 10,
    sortKey: Annotated[str | None, Query(max_length=100)] = None,
    sortDirection: Direction = "default",
    includeSeries: bool = False,
    includeEpisode: bool = False,
    episodeId: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
    eventType: Annotated[int | None, Query(ge=0, le=100)] = None,
    downloadId: Annotated[str | None, Query(max_length=200)] = None,
) -> JsonResponse:
    """Finished downloads (imported, failed, cancelled), newest first."""
    offset, limit = page_window(page, pageSize)
    newest_first = sortDirection != "ascending"
    total, entries = await history_page(
        ctx.db, offset=offset, limit=limit, newest_first=newest_first, episode_id=episodeId
    )
    return JsonResponse(
        {
            "page": page,
            "pageSize": limit,
            "sortKey": sortKey or "date",
            "sortDirection": "descending" if newest_first else "ascending",
            "totalRecords": total,
            "records": await _history_records(
                ctx, media, entries, include_series=includeSeries, include_episode=includeEpisode
            ),
        }
    )


@router.get("/history/series")
async def history_of_series(
    ctx: CtxDep,
    media: MediaDep,
    seriesId: Annotated[int, Query(ge=0, le=2**31 - 1)],
    seasonNumber: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    eventType: Annotated[int | None, Query(ge=0, le=100)] = None,
    includeSeries: bool = False,
    includeEpisode: bool = False,
) -> JsonResponse:
    """A series' history (newest 1,000 rows)."""
    await series_episodes(ctx.db, seriesId, season=-1)  # 404 for an unknown series
    _total, entries = await history_page(ctx.db, offset=0, limit=1000, series_id=seriesId)
    if seasonNumber is not None:
        entries = [h for h in entries if h.season == seasonNumber]
    return JsonResponse(
        await _history_records(
            ctx, media, entries, include_series=includeSeries, include_episode=includeEpisode
        )
    )
