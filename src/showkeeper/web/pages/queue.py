"""The Queue page: live bars for running downloads, the waiting items (paged), failures with
their reasons, and the controls of the whole queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from showkeeper.downloads.history import history_page
from showkeeper.downloads.service import status
from showkeeper.downloads.views import counts
from showkeeper.web.auth import PrincipalDep
from showkeeper.web.deps import CtxDep
from showkeeper.web.pages.render import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@router.get("/queue")
async def queue_page(
    request: Request,
    ctx: CtxDep,
    principal: PrincipalDep,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    """Queue: what downloads now, what waits, what failed."""
    data = await status(ctx, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    failed = data["failed"]
    attempts: dict[int, list[object]] = {}
    if failed:
        _, rows = await history_page(
            ctx.db, status="failed", episode_ids=[f["episode_id"] for f in failed], limit=200
        )
        for row in rows:
            if row.episode_id is not None:
                attempts.setdefault(row.episode_id, []).append(row)
    total_queued = data["queued"]["total"]
    return await render(
        request,
        "queue.html",
        {
            "q": data,
            "attempts": attempts,
            "page": page,
            "pages": max(1, -(-total_queued // PAGE_SIZE)),
        },
        principal=principal,
        active="queue",
        partial="_queue_body.html",
    )


@router.get("/partials/queue-count")
async def queue_count(request: Request, ctx: CtxDep, principal: PrincipalDep) -> Response:
    """The top bar's count of queued and running downloads."""
    per = await counts(ctx.db)
    n = per.get("queued", 0) + per.get("downloading", 0)
    return Response(str(n), media_type="text/plain")
