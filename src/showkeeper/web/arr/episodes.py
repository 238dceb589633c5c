"""episode and episodefile: by series or id, monitoring, deleting a file."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from showkeeper.context import AppContext
from showkeeper.db.models import Episode
from showkeeper.domain.paths import UnsafePathError, ensure_inside
from showkeeper.errors import NotFoundError
from showkeeper.library.mediainfo import MediaInfoCache, file_modified, media_info
from showkeeper.series import episodes as service
from showkeeper.web.arr.base import ArrRoute, CacheDep, JsonResponse, MediaDep, PathId
from showkeeper.web.arr.cache import invalidate
from showkeeper.web.arr.resources import episode_file_resource, episode_resource
from showkeeper.web.arr.series import series_resources
from showkeeper.web.deps import CtxDep

router = APIRouter(prefix="/api/v3", route_class=ArrRoute, tags=["sonarr v3"])
Ids = Annotated[list[Annotated[int, Field(ge=0, le=2**31 - 1)]] | None, Query(max_length=1000)]


def inside_library(root: Path | None, relative: str | None) -> str | None:
    """The file's path when it is inside the library (never probe anything else)."""
    if root is None or not relative:
        return None
    try:
        return str(ensure_inside(root, relative))
    except UnsafePathError:
        return None


async def file_resources(
    ctx: AppContext, cache: MediaInfoCache | None, episodes: Sequence[Episode]
) -> dict[int, dict[str, Any]]:
    """EpisodeFileResources by episode id, for those episodes that are on disk."""
    on_disk = [e for e in episodes if e.is_downloaded and e.file_path]
    folders = await service.series_folders(ctx.db, [e.series_id for e in on_disk])
    root = ctx.settings.library_dir

    async def one(ep: Episode) -> dict[str, Any]:
        info = modified = None
        path = inside_library(root, ep.file_path)
        if path is not None:
            info, modified = await asyncio.gather(media_info(cache, path), file_modified(path))
        return episode_file_resource(
            ep,
            library_dir=str(root) if root else None,
            folder=folders.get(ep.series_id, ""),
            modified=modified,
            info=info,
        )

    files = await asyncio.gather(*(one(e) for e in on_disk))
    return {e.id: f for e, f in zip(on_disk, files, strict=True)}


async def episode_resources(
    ctx: AppContext,
    cache: MediaInfoCache | None,
    episodes: Sequence[Episode],
    *,
    include_series: bool = False,
    include_file: bool = False,
) -> list[dict[str, Any]]:
    series = (
        await series_resources(ctx, sorted({e.series_id for e in episodes}))
        if include_series and episodes
        else {}
    )
    files = await file_resources(ctx, cache, episodes) if include_file else {}
    return [
        episode_resource(e, series=series.get(e.series_id), file=files.get(e.id)) for e in episodes
    ]


@router.get("/episode")
async def list_episodes(
    ctx: CtxDep,
    media: MediaDep,
    seriesId: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
    seasonNumber: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    episodeIds: Ids = None,
    episodeFileId: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
    includeSeries: bool = False,
    includeEpisodeFile: bool = False,
    includeImages: bool = False,
) -> JsonResponse:
    """A series' episodes (seriesId), or episodes by id (episodeIds, episodeFileId)."""
    if seriesId is not None:
        found = await service.series_episodes(ctx.db, seriesId, season=seasonNumber)
    elif episodeIds or episodeFileId is not None:
        ids = list(episodeIds or []) + ([episodeFileId] if episodeFileId is not None else [])
        found = await service.episodes_by_ids(ctx.db, ids)
        if episodeFileId is not None:
            found = [e for e in found if e.id != episodeFileId or e.is_downloaded]
    else:
        raise NotFoundError("give seriesId, episodeIds or episodeFileId")
    return JsonResponse(
        await episode_resources(
            ctx, media, found, include_series=includeSeries, include_file=includeEpisodeFile
        )
    )


class MonitorIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    episodeIds: list[Annotated[int, Field(ge=0, le=2**31 - 1)]] = Field(
        min_length=1, max_length=service.MAX_IDS
    )
    monitored: bool


@router.put("/episode/monitor", status_code=202)
async def monitor(body: MonitorIn, ctx: CtxDep, media: MediaDep, cache: CacheDep) -> JsonResponse:
    """Monitor or unmonitor episodes in bulk; answers them."""
    changed = await service.set_episodes_monitored(ctx.db, body.episodeIds, body.monitored)
    invalidate(cache)
    return JsonResponse(await episode_resources(ctx, media, changed), status_code=202)


@router.get("/episode/{episode_id}")
async def get_episode(episode_id: PathId, ctx: CtxDep, media: MediaDep) -> JsonResponse:
    """One episode, with its series and file."""
    ep = await service.get_episode(ctx.db, episode_id)
    out = await episode_resources(ctx, media, [ep], include_series=True, include_file=True)
    return JsonResponse(out[0])


class EpisodeIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    monitored: bool


@router.put("/episode/{episode_id}", status_code=202)
async def edit_episode(
    episode_id: PathId, body: EpisodeIn, ctx: CtxDep, media: MediaDep, cache: CacheDep
) -> JsonResponse:
    """Monitor or unmonitor one episode (the only field read)."""
    changed = await service.set_episodes_monitored(ctx.db, [episode_id], body.monitored)
    invalidate(cache)
    return JsonResponse((await episode_resources(ctx, media, changed))[0], status_code=202)


@router.get("/episodefile")
async def list_files(
    ctx: CtxDep,
    media: MediaDep,
    seriesId: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
    episodeFileIds: Ids = None,
) -> JsonResponse:
    """A series' files (seriesId) or files by id; a file's id is its episode's id."""
    if seriesId is not None:
        found = await service.series_episodes(ctx.db, seriesId, downloaded=True)
    elif episodeFileIds:
        found = await service.episodes_by_ids(ctx.db, episodeFileIds)
    else:
        raise NotFoundError("give seriesId or episodeFileIds")
    files = await file_resources(ctx, media, found)
    return JsonResponse(list(files.values()))


@router.get("/episodefile/{file_id}")
async def get_file(file_id: PathId, ctx: CtxDep, media: MediaDep) -> JsonResponse:
    """One file: path, size, quality and media info read by ffprobe."""
    ep = await service.get_episode(ctx.db, file_id)
    files = await file_resources(ctx, media, [ep])
    if file_id not in files:
        raise NotFoundError(f"no episode file with id {file_id}")
    return JsonResponse(files[file_id])


@router.delete("/episodefile/{file_id}")
async def delete_file(file_id: PathId, ctx: CtxDep, cache: CacheDep) -> JsonResponse:
    """Delete the file from the library; the episode becomes missing again."""
    await service.delete_episode_file(ctx.db, file_id, library_dir=ctx.settings.library_dir)
    invalidate(cache)
    return JsonResponse({})
