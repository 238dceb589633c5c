"""The Library page: posters or a table of every series, searched, sorted, filtered and paged
on the server (the same list_series the REST API calls), with a live rescan."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from showkeeper.library.lock import scan_state
from showkeeper.series.service import SeriesQuery, list_series
from showkeeper.web.auth import PrincipalDep
from showkeeper.web.deps import CtxDep
from showkeeper.web.pages.posters import poster_url
from showkeeper.web.pages.render import render

router = APIRouter(include_in_schema=False)
VIEW_COOKIE = "showkeeper_view"
PAGE_SIZE = 48
SORTS = {"name": "Name", "created_at": "Added", "missing": "Missing", "year": "Year"}
FILTERS = {
    "": "All series",
    "missing": "Has missing",
    "complete": "Complete",
    "loading": "Loading",
    "failed": "Failed",
    "unmonitored": "Unmonitored",
}
Filter = Literal["", "missing", "complete", "loading", "failed", "unmonitored"]


def _query(q: str, sort: str, order: str, filter_: str, page: int) -> SeriesQuery:
    return SeriesQuery(
        page=page,
        page_size=PAGE_SIZE,
        sort=sort,  # type: ignore[arg-type]
        order=order,  # type: ignore[arg-type]
        q=q or None,
        has_missing={"missing": True, "complete": False}.get(filter_),
        loading=True if filter_ == "loading" else None,
        loading_status="failed" if filter_ == "failed" else None,
        monitored=False if filter_ == "unmonitored" else None,
    )


@router.get("/")
async def library_page(
    request: Request,
    ctx: CtxDep,
    principal: PrincipalDep,
    q: Annotated[str, Query(max_length=200)] = "",
    sort: Literal["name", "created_at", "missing", "year"] = "name",
    order: Literal["asc", "desc"] = "asc",
    filter: Filter = "",
    view: Literal["", "grid", "table"] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    """Library: every series with its counts."""
    chosen = view or request.cookies.get(VIEW_COOKIE, "grid")
    if chosen not in ("grid", "table"):
        chosen = "grid"
    total, items = await list_series(ctx.db, _query(q, sort, order, filter, page))
    library_dir = ctx.settings.library_dir
    for item in items:
        item["poster"] = poster_url(library_dir, item["key"], item["folder"])
    running, last = await scan_state(ctx.db)
    params: dict[str, Any] = {"q": q, "sort": sort, "order": order, "filter": filter}
    pages = max(1, -(-total // PAGE_SIZE))
    response = await render(
        request,
        "library.html",
        {
            "items": items,
            "total": total,
            "page": page,
            "pages": pages,
            "params": params,
            "view": chosen,
            "sorts": SORTS,
            "filters": FILTERS,
            "scan_running": running,
            "last_scan": last,
            "searching": bool(q or filter),
        },
        principal=principal,
        active="library",
        partial="_library_results.html",
    )
    if view:
        response.set_cookie(
            VIEW_COOKIE, view, max_age=365 * 86400, path="/", httponly=True, samesite="strict"
        )
    return response
