"""command: the Sonarr commands showkeeper runs, tracked (automation/commands.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from showkeeper.context import AppContext
from showkeeper.downloads import service as downloads
from showkeeper.errors import ShowkeeperError
from showkeeper.library.service import run_scan
from showkeeper.series.episodes import episodes_exist, series_key
from showkeeper.sources import service as sources
from showkeeper.web.arr.base import ArrRoute, CommandsDep, JsonResponse, PathId
from showkeeper.web.arr.resources import command_resource
from showkeeper.web.deps import CtxDep

router = APIRouter(prefix="/api/v3", route_class=ArrRoute, tags=["sonarr v3"])
IdList = list[Annotated[int, Field(ge=0, le=2**31 - 1)]]


class CommandIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1, max_length=100)
    seriesId: int | None = Field(None, ge=0, le=2**31 - 1)
    seriesIds: IdList | None = Field(None, max_length=1000)
    episodeIds: IdList | None = Field(None, max_length=100_000)


Runner = Callable[[AppContext, CommandIn], Awaitable[str | None]]


async def _series_keys(ctx: AppContext, body: CommandIn) -> list[str] | None:
    ids = ([body.seriesId] if body.seriesId is not None else []) + list(body.seriesIds or [])
    return [await series_key(ctx.db, i) for i in ids] if ids else None


async def rescan(ctx: AppContext, body: CommandIn) -> str:
    keys = await _series_keys(ctx, body)
    targets: list[str | None] = list(keys) if keys else [None]
    for key in targets:
        await run_scan(ctx, series_key=key)
    return "library scanned" if keys is None else f"{len(keys)} series scanned"


async def refresh(ctx: AppContext, body: CommandIn) -> str:
    keys = await _series_keys(ctx, body)
    if keys is None:
        await sources.refresh_all(ctx)
        return "every source refreshed"
    for key in keys:
        await sources.refresh_series(ctx, key)
    return f"{len(keys)} series refreshed"


async def series_search(ctx: AppContext, body: CommandIn) -> str:
    keys = await _series_keys(ctx, body)
    if not keys:
        raise ShowkeeperError("SeriesSearch needs seriesId")
    queued = 0
    for key in keys:
        queued += len((await downloads.enqueue_series(ctx, key)).item_ids)
    return f"{queued} episodes queued"


async def episode_search(ctx: AppContext, body: CommandIn) -> str:
    if not body.episodeIds:
        raise ShowkeeperError("EpisodeSearch needs episodeIds")
    result = await downloads.enqueue_episodes(ctx, body.episodeIds)
    return f"{len(result.item_ids)} episodes queued"


async def missing_search(ctx: AppContext, body: CommandIn) -> str:
    return f"{await downloads.enqueue_missing(ctx)} episodes queued"


COMMANDS: dict[str, Runner] = {
    "RescanSeries": rescan,
    "RefreshSeries": refresh,
    "SeriesSearch": series_search,
    "EpisodeSearch": episode_search,
    "MissingEpisodeSearch": missing_search,
    "RssSync": refresh,
}


@router.post("/command", status_code=201)
async def post_command(body: CommandIn, ctx: CtxDep, tracker: CommandsDep) -> JsonResponse:
    """Start a command; it runs in the background, poll command/{id} for its status."""
    runner = COMMANDS.get(body.name)
    if runner is None:
        raise ShowkeeperError(
            f"unknown command {body.name[:100]!r}; known commands: {', '.join(COMMANDS)}"
        )
    # what would make the command fail answers now (400/404), not later in its status
    if body.name == "SeriesSearch" and body.seriesId is None and not body.seriesIds:
        raise ShowkeeperError("SeriesSearch needs seriesId")
    if body.name == "EpisodeSearch":
        if not body.episodeIds:
            raise ShowkeeperError("EpisodeSearch needs episodeIds")
        await episodes_exist(ctx.db, body.episodeIds)
    await _series_keys(ctx, body)
    if body.name == "RssSync":
        body = CommandIn(name=body.name)  # RssSync refreshes every source

    async def job() -> str | None:
        return await runner(ctx, body)

    record = tracker.submit(body.name, body.model_dump(exclude_none=True), job)
    return JsonResponse(command_resource(record), status_code=201)


@router.get("/command")
async def list_commands(tracker: CommandsDep) -> JsonResponse:
    """Commands of this process, oldest first."""
    return JsonResponse([command_resource(r) for r in tracker.all()])


@router.get("/command/{command_id}")
async def get_command(command_id: PathId, tracker: CommandsDep) -> JsonResponse:
    """One command's status: queued, started, completed or failed."""
    return JsonResponse(command_resource(tracker.get(command_id)))
