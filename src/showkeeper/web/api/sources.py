"""Adding series from sources, their loading status, refreshes, OPML import, search."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from showkeeper.context import AppContext
from showkeeper.db.models import Episode, Series
from showkeeper.errors import NotFoundError, ShowkeeperError
from showkeeper.logging import get_logger
from showkeeper.sources import service
from showkeeper.sources.exporting import export_opml
from showkeeper.sources.importing import import_opml
from showkeeper.sources.opml import MAX_OPML_BYTES, OpmlError
from showkeeper.sources.preview import preview_source
from showkeeper.sources.refresh import refreshable
from showkeeper.sources.registry import kinds
from showkeeper.web.deps import CtxDep, SessionDep

log = get_logger(__name__)
router = APIRouter(tags=["sources"])


class AddSeries(BaseModel):
    url: str = Field(description="Feed, channel/playlist or directory URL (http/https).")
    kind: str | None = Field(None, description="feed, ytdlp, httpdir...; detected when omitted.")
    key: str | None = Field(
        None,
        description="The series key; made from the title when omitted (tour-show; the "
        "source's host or a number is added only when that key is taken).",
    )
    title: str | None = Field(
        None,
        max_length=500,
        description="The series title as a preview showed it: names the key without asking "
        "the source again. When neither key nor title is given, the source is read first.",
    )
    options: dict[str, Any] | None = Field(
        None, description="Filters (include, exclude, not_before, min/max_duration_s), season_mode."
    )


def _accepted(key: str, status: str) -> dict[str, Any]:
    return {
        "key": key,
        "status": status,
        "loading_status_url": f"/api/series/{key}/loading-status",
    }


@router.post("/api/series", status_code=202)
async def create_series(body: AddSeries, ctx: CtxDep) -> dict[str, Any]:
    """Add a series from a source URL; it loads in the background (202)."""
    row = await service.start_add(
        ctx, body.url, kind=body.kind, options=body.options, key=body.key, title=body.title
    )
    return _accepted(row.key, row.loading_status)


@router.post("/api/sources/preview")
async def preview(body: AddSeries, ctx: CtxDep) -> dict[str, Any]:
    """What adding this URL would give (title, kind, episode count, first and last), unsaved."""
    result = await preview_source(ctx, body.url, kind=body.kind, options=body.options)
    return result.as_dict()


@router.get("/api/series/{key}/loading-status")
async def loading_status(key: str, session: SessionDep) -> dict[str, Any]:
    """Where adding the series stands: pending ... completed, or failed with the error."""
    row = await session.scalar(select(Series).where(Series.key == key))
    if row is None:
        raise NotFoundError(f"no series with key {key!r}")
    count = await session.scalar(
        select(func.count()).select_from(Episode).where(Episode.series_id == row.id)
    )
    return {
        "key": row.key,
        "status": row.loading_status,
        "error": row.loading_error,
        "name": row.name,
        "folder": row.folder,
        "source_kind": row.source_kind,
        "source_url": row.source_url,
        "episodes": int(count or 0),
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
    }


@router.post("/api/series/{key}/retry", status_code=202)
async def retry(key: str, ctx: CtxDep) -> dict[str, Any]:
    """Load a failed series again (202)."""
    row = await service.retry_series(ctx, key)
    return _accepted(row.key, row.loading_status)


@router.post("/api/series/{key}/refresh", status_code=202)
async def refresh_one(key: str, ctx: CtxDep) -> dict[str, Any]:
    """Refresh one series' episodes from its source in the background (202)."""
    await refreshable(ctx, key)
    ctx.spawn(_refresh_quietly(ctx, key), name=f"refresh-{key}")
    return {"key": key, "status": "refreshing"}


@router.post("/api/sources/refresh", status_code=202)
async def refresh_everything(ctx: CtxDep) -> dict[str, Any]:
    """Refresh all sources in the background (202); new episodes arrive as events."""
    ctx.spawn(service.refresh_all(ctx), name="refresh-all")
    return {"status": "refreshing"}


@router.post("/api/sources/import-opml", status_code=202)
async def opml(request: Request, ctx: CtxDep) -> dict[str, Any]:
    """Add every feed of an OPML file (multipart field ``file``, or the raw XML body)."""
    data = await _upload(request)
    report = await import_opml(ctx, data)
    return report.as_dict()


@router.get("/api/sources/opml")
async def export(ctx: CtxDep) -> Response:
    """Every feed source as an OPML file (POST it to /api/sources/import-opml elsewhere)."""
    return Response(
        await export_opml(ctx.db),
        media_type="text/x-opml; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="showkeeper.opml"'},
    )


@router.get("/api/sources/search")
async def search(
    ctx: CtxDep,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    kind: str = "feed",
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    """Search a source directory (feeds: the podcast directory) for series to add."""
    results = await service.search_sources(ctx, q, kind=kind, limit=limit)
    return {"results": [asdict(r) for r in results]}


@router.get("/api/sources/kinds")
async def source_kinds() -> dict[str, Any]:
    """The registered source kinds."""
    return {"kinds": kinds()}


async def _upload(request: Request) -> bytes:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise OpmlError("send the OPML file in the multipart field 'file'")
        data = await upload.read(MAX_OPML_BYTES + 1)
    else:
        data = b""
        async for chunk in request.stream():
            data += chunk
            if len(data) > MAX_OPML_BYTES:
                break
    if not data:
        raise OpmlError("no OPML file received")
    return data


async def _refresh_quietly(ctx: AppContext, key: str) -> None:
    """A refresh started by the API: its outcome is in the series' source_state and logs."""
    try:
        await service.refresh_series(ctx, key)
    except ShowkeeperError as exc:  # deleted or reloaded since the request was answered
        log.info("refresh not run", key=key, error=str(exc))
