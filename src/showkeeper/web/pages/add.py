"""The Add series page: a URL or a podcast search, a preview before anything is stored, then
the new series' loading steps, live."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from showkeeper.errors import ShowkeeperError
from showkeeper.series.service import get_series
from showkeeper.sources.preview import preview_source
from showkeeper.sources.service import search_sources
from showkeeper.web.auth import PrincipalDep
from showkeeper.web.deps import CtxDep
from showkeeper.web.pages.render import render, templates

router = APIRouter(include_in_schema=False)
STEPS = [
    ("pending", "Registered"),
    ("probing", "Reading the source"),
    ("loading_episodes", "Listing episodes"),
    ("saving", "Saving episodes"),
    ("completed", "Ready"),
]


@router.get("/add")
async def add_page(request: Request, principal: PrincipalDep) -> Response:
    """Add series: paste a URL or search podcasts."""
    return await render(request, "add.html", {}, principal=principal, active="add")


@router.post("/add/preview")
async def add_preview(
    request: Request,
    ctx: CtxDep,
    principal: PrincipalDep,
    url: Annotated[str, Form(max_length=4000)] = "",
    include: Annotated[str, Form(max_length=500)] = "",
    exclude: Annotated[str, Form(max_length=500)] = "",
    not_before: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """The preview of a URL (an htmx partial); errors are shown beside the URL field."""
    options: dict[str, Any] = {
        k: v
        for k, v in (("include", include), ("exclude", exclude), ("not_before", not_before))
        if v
    }
    data: dict[str, Any] = {"url": url, "options": options, "preview": None, "error": None}
    if not url.strip():
        data["error"] = "paste the URL of a feed, a channel or playlist, or a directory listing"
    else:
        try:
            data["preview"] = await preview_source(ctx, url.strip(), options=options)
        except ShowkeeperError as exc:
            data["error"] = str(exc)
    return templates.TemplateResponse(request, "_add_preview.html", data)


@router.get("/add/search")
async def add_search(
    request: Request,
    ctx: CtxDep,
    principal: PrincipalDep,
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """Podcast directory results (an htmx partial)."""
    results: list[Any] = []
    error = None
    if q.strip():
        try:
            results = await search_sources(ctx, q.strip(), kind="feed", limit=20)
        except ShowkeeperError as exc:
            error = str(exc)
    return templates.TemplateResponse(
        request, "_add_results.html", {"results": results, "error": error, "q": q}
    )


@router.get("/add/loading/{key}")
async def add_loading(request: Request, key: str, ctx: CtxDep, principal: PrincipalDep) -> Response:
    """The loading steps of a series just added, updated live."""
    series = await get_series(ctx.db, key)
    status = series["loading_status"]
    names = [s for s, _ in STEPS]
    reached = names.index(status) if status in names else -1
    steps = [
        {
            "label": label,
            "state": "done"
            if i < reached or status == "completed"
            else "now"
            if i == reached
            else "todo",
        }
        for i, (_, label) in enumerate(STEPS)
    ]
    return await render(
        request,
        "add_loading.html",
        {"s": series, "steps": steps, "failed": status == "failed"},
        principal=principal,
        active="add",
        partial="_add_steps.html",
    )
