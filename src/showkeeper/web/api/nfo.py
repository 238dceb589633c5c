"""NFO routes: what a series' NFOs say, write or refresh them, repair the whole library."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from showkeeper.context import AppContext
from showkeeper.library.service import library_root
from showkeeper.logging import get_logger
from showkeeper.metadata.load import LoadOptions
from showkeeper.metadata.loader import repair_metadata
from showkeeper.metadata.service import nfo_status, repair_nfos, write_series_nfos
from showkeeper.web.deps import CtxDep

router = APIRouter(tags=["nfo"])
log = get_logger(__name__)


class WriteRequest(BaseModel):
    overwrite: bool = Field(False, description="Also replace NFOs written by other tools.")


@router.get("/api/nfo/series/{key}")
async def series_nfo(ctx: CtxDep, key: str) -> dict[str, Any]:
    """The parsed tvshow.nfo of a series and which downloaded episodes have an NFO."""
    return await nfo_status(ctx.db, library_root(ctx.settings), key)


@router.post("/api/nfo/series/{key}")
async def write_nfo(
    ctx: CtxDep, key: str, body: Annotated[WriteRequest | None, Body()] = None
) -> dict[str, Any]:
    """Write or refresh a series' NFOs; answers with counts (written, skipped, errors)."""
    request = body or WriteRequest()
    root = library_root(ctx.settings)
    result = await write_series_nfos(ctx.db, root, key, overwrite=request.overwrite)
    return {"series_key": key, **result.as_dict()}


async def _repair(ctx: AppContext, replace_artwork: bool) -> None:
    result = await repair_nfos(ctx.db, library_root(ctx.settings))
    log.info("NFO repair finished", **result.as_dict())
    loaded = await repair_metadata(
        ctx, opts=LoadOptions(replace_artwork=replace_artwork), force=replace_artwork
    )
    log.info("metadata repair finished", series=len(loaded))


@router.post("/api/nfo/repair", status_code=202)
async def repair(ctx: CtxDep, replace_artwork: bool = False) -> dict[str, Any]:
    """Create missing NFOs and artwork, rewrite broken ones of ours (and, with
    replace_artwork, artwork other tools wrote), in the background."""
    library_root(ctx.settings)  # a 409 now rather than a log line later
    ctx.spawn(_repair(ctx, replace_artwork), name="nfo-repair")
    return {"status": "started"}
