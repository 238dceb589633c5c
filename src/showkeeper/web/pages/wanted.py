"""The Wanted page: every missing episode (the one definition), by series, with downloads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from showkeeper.series.missing import missing_episodes
from showkeeper.web.auth import PrincipalDep
from showkeeper.web.deps import CtxDep
from showkeeper.web.pages.render import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100


@router.get("/wanted")
async def wanted_page(
    request: Request,
    ctx: CtxDep,
    principal: PrincipalDep,
    series: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    """Wanted: the missing episodes, filterable by series."""
    everything = await missing_episodes(ctx.db)
    names = sorted({(m.series_name, m.series_key) for m in everything}, key=lambda x: x[0].lower())
    chosen = [m for m in everything if m.series_key == series] if series else everything
    start = (page - 1) * PAGE_SIZE
    return await render(
        request,
        "wanted.html",
        {
            "items": chosen[start : start + PAGE_SIZE],
            "total": len(chosen),
            "all_total": len(everything),
            "series_names": names,
            "series": series,
            "page": page,
            "pages": max(1, -(-len(chosen) // PAGE_SIZE)),
        },
        principal=principal,
        active="wanted",
        partial="_wanted_body.html",
    )
