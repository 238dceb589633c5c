"""The History page: finished downloads, newest first, by state and series."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from showkeeper.downloads.history import history_page
from showkeeper.web.auth import PrincipalDep
from showkeeper.web.deps import CtxDep
from showkeeper.web.pages.render import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@router.get("/history")
async def history_view(
    request: Request,
    ctx: CtxDep,
    principal: PrincipalDep,
    status: Literal["", "completed", "failed", "cancelled"] = "",
    series: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    """History: completed and failed downloads."""
    total, rows = await history_page(
        ctx.db,
        status=status or None,
        series_key=series or None,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    return await render(
        request,
        "history.html",
        {
            "rows": rows,
            "total": total,
            "status": status,
            "series": series,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "params": {"status": status, "series": series},
        },
        principal=principal,
        active="history",
        partial="_history_body.html",
    )
