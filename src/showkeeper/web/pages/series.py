"""The Series page: header, filters, seasons of episodes with a state chip each, actions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from showkeeper.downloads.service import series_items
from showkeeper.downloads.views import ItemView
from showkeeper.errors import ShowkeeperError
from showkeeper.metadata.identify import candidates
from showkeeper.series.missing import missing_ids, today_utc
from showkeeper.series.service import get_series
from showkeeper.web.auth import PrincipalDep
from showkeeper.web.deps import CtxDep
from showkeeper.web.pages.posters import poster_url
from showkeeper.web.pages.render import percent, render, templates

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class EpisodeState:
    kind: str  # css class of the chip: ok, missing, queued, downloading, failed, muted
    label: str
    reason: str | None = None
    item_id: int | None = None
    pct: int | None = None
    downloadable: bool = False


def episode_state(
    ep: dict[str, Any], item: ItemView | None, missing: set[int], today: Any
) -> EpisodeState:
    """What the chip beside an episode says; "missing" is the one definition's verdict."""
    item_id = item.id if item is not None else None
    if ep["is_downloaded"]:
        return EpisodeState("ok", "On disk", item_id=item_id)
    if item is not None and item.status == "downloading":
        pct = percent(item.downloaded_bytes, item.total_bytes)
        return EpisodeState("downloading", f"Downloading {pct}%", item_id=item_id, pct=pct)
    if item is not None and item.status == "queued":
        return EpisodeState("queued", "Queued", item_id=item_id)
    if ep["filtered"]:
        return EpisodeState("muted", "Filtered out")
    if ep["id"] in missing:
        if item is not None and item.status == "failed":
            return EpisodeState(
                "failed", "Failed", reason=item.last_error, item_id=item_id, downloadable=True
            )
        return EpisodeState("missing", "Missing", downloadable=True)
    if not ep["monitored"]:
        return EpisodeState("muted", "Unmonitored")
    if not ep["at_source"]:
        return EpisodeState("muted", "Not at source")
    if ep["air_date"] is not None and ep["air_date"] > today:
        return EpisodeState("muted", "Upcoming")
    return EpisodeState("muted", "Not wanted")


@router.get("/series/{key}")
async def series_page(request: Request, key: str, ctx: CtxDep, principal: PrincipalDep) -> Response:
    """Series: seasons and episodes with live states."""
    series = await get_series(ctx.db, key)
    real_key = series["key"]
    missing = await missing_ids(ctx.db, series_key=real_key)
    items = await series_items(ctx, real_key)
    today = today_utc()
    seasons: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for ep in series["episodes"]:
        state = episode_state(ep, items.get(ep["id"]), missing, today)
        seasons[ep["season"]].append({**ep, "state": state})
    season_list = [
        {
            "number": number,
            "episodes": eps,
            "on_disk": sum(1 for e in eps if e["is_downloaded"]),
            "missing_ids": [e["id"] for e in eps if e["state"].downloadable],
        }
        for number, eps in sorted(seasons.items(), key=lambda kv: (kv[0] == 0, -kv[0]))
    ]
    series["poster"] = poster_url(ctx.settings.library_dir, real_key, series["folder"])
    return await render(
        request,
        "series.html",
        {"s": series, "seasons": season_list, "options": series["options"]},
        principal=principal,
        active="library",
        partial="_seasons.html",
    )


@router.get("/series/{key}/identify")
async def identify_results(
    request: Request,
    key: str,
    ctx: CtxDep,
    principal: PrincipalDep,
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """TMDB candidates for the Identify dialog (an htmx partial); errors shown in place."""
    data: dict[str, Any] = {"key": key, "q": q, "candidates": [], "error": None}
    try:
        found = await candidates(ctx, key, q.strip() or None)
        data.update(key=found["key"], q=found["query"], candidates=found["candidates"])
    except ShowkeeperError as exc:
        data["error"] = str(exc)
    return templates.TemplateResponse(request, "_identify_results.html", data)
