"""Artwork for the browser, Identify (TMDB match by hand), metadata reloads, TMDB status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from showkeeper.errors import ConflictError
from showkeeper.library.service import library_root
from showkeeper.metadata.artwork import Kind
from showkeeper.metadata.identify import IdentifyError, candidates, set_match, tmdb_poster
from showkeeper.metadata.load import LoadOptions
from showkeeper.metadata.loader import MetadataLoader
from showkeeper.metadata.serve import ServedImage, episode_thumb, series_artwork
from showkeeper.metadata.status import tmdb_status
from showkeeper.web.deps import CtxDep

router = APIRouter(tags=["metadata"])
CACHE = "private, max-age=3600"
Width = Query(None, ge=16, le=4000, description="Resized to at most this width (grid view).")


class IdentifyIn(BaseModel):
    tmdb_id: int | None = Field(None, ge=1, le=2_000_000_000)
    none: bool = Field(False, description="The series has no TMDB entry: stop matching it.")


def _image(request: Request, served: ServedImage) -> Response:
    headers = {"ETag": served.etag, "Cache-Control": CACHE}
    if request.headers.get("if-none-match") == served.etag:
        return Response(status_code=304, headers=headers)
    return FileResponse(served.path, media_type=served.media_type, headers=headers)


async def _queue(ctx: CtxDep, key: str, opts: LoadOptions) -> None:
    loader = ctx.service(MetadataLoader)
    if loader is None:
        raise ConflictError("the metadata loader is not running in this process")
    await loader.enqueue(key, opts=opts)


@router.get("/api/series/{key}/artwork/{kind}")
async def artwork(
    key: str, kind: Kind, request: Request, ctx: CtxDep, width: int | None = Width
) -> Response:
    """The series' poster, fanart, logo or banner from its folder (ETag, cacheable)."""
    root = library_root(ctx.settings)
    return _image(request, await series_artwork(ctx.db, ctx.settings, root, key, kind, width))


@router.get("/api/series/{key}/episodes/{season}/{episode}/thumb")
async def thumb(
    key: str,
    request: Request,
    ctx: CtxDep,
    season: int = Path(ge=0, le=100_000),
    episode: int = Path(ge=0, le=1_000_000),
    width: int | None = Width,
) -> Response:
    """The thumbnail beside a downloaded episode (``<file>-thumb.jpg``)."""
    root = library_root(ctx.settings)
    served = await episode_thumb(ctx.db, ctx.settings, root, key, season, episode, width)
    return _image(request, served)


@router.get("/api/series/{key}/identify")
async def identify_list(
    key: str, ctx: CtxDep, q: str | None = Query(None, max_length=200)
) -> dict[str, Any]:
    """TMDB candidates for the series (title, year, overview, poster served by us)."""
    return await candidates(ctx, key, q)


@router.post("/api/series/{key}/identify", status_code=202)
async def identify_set(key: str, body: IdentifyIn, ctx: CtxDep) -> dict[str, Any]:
    """Set the TMDB match (``{"tmdb_id": N}``) or none (``{"none": true}``); metadata reloads."""
    if (body.tmdb_id is None) == (not body.none):
        raise IdentifyError('send either {"tmdb_id": N} or {"none": true}')
    result = await set_match(ctx, key, None if body.none else body.tmdb_id)
    await _queue(ctx, key, LoadOptions(refresh=True))
    return {**result, "status": "reloading"}


@router.post("/api/series/{key}/metadata", status_code=202)
async def reload(key: str, ctx: CtxDep, replace_artwork: bool = Query(False)) -> dict[str, Any]:
    """Load the series' metadata and artwork again in the background."""
    await _queue(ctx, key, LoadOptions(replace_artwork=replace_artwork))
    return {"key": key, "status": "pending"}


@router.get("/api/metadata/tmdb-poster/{name}")
async def poster(name: str, request: Request, ctx: CtxDep) -> Response:
    """A TMDB candidate's poster, fetched once and cached (Identify shows these)."""
    path = await tmdb_poster(ctx, f"/{name}")
    served = ServedImage(path, f'"{path.name}"', "image/jpeg")
    return _image(request, served)


@router.get("/api/metadata/status")
async def status(ctx: CtxDep) -> dict[str, Any]:
    """Whether TMDB is configured and was reachable at the last use, with the last error."""
    return await tmdb_status(ctx.settings, ctx.db)
