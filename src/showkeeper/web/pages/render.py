"""Rendering of pages: one Jinja2 environment, the layout's data, and the filters templates use.

A page handler calls :func:`render` with its template and data; an htmx request for a part of
the page (``HX-Request`` without ``HX-Boosted``) gets only the partial the handler names, so a
partial is rendered by the same function on first load and on update.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from showkeeper import __version__
from showkeeper.auth.principal import Principal
from showkeeper.context import AppContext
from showkeeper.downloads.views import counts as queue_counts

TEMPLATES_DIR = Path(__file__).parent.parent / "templates"
templates = Jinja2Templates(directory=TEMPLATES_DIR)
PALETTE = 12  # poster placeholder colours: .ph-0 ... .ph-11 in style.css

NAV = [
    ("library", "/", "Library"),
    ("wanted", "/wanted", "Wanted"),
    ("queue", "/queue", "Queue"),
    ("history", "/history", "History"),
    ("add", "/add", "Add series"),
    ("settings", "/settings", "Settings"),
    ("system", "/system", "System"),
]


def human_size(n: int | float | None) -> str:
    """1536 -> '1.5 KB'; None -> '—'."""
    if n is None:
        return "—"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"  # pragma: no cover


def human_duration(seconds: float | None) -> str:
    """3725 -> '1 h 2 min'; None -> '—'."""
    if seconds is None or seconds < 0 or math.isinf(seconds) or math.isnan(seconds):
        return "—"
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


def iso(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def safe_url(url: str | None) -> str | None:
    """A link target only when it is http(s); anything else (javascript:, data:) is no link."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None


def initials(name: str | None) -> str:
    words = [w for w in (name or "").replace("-", " ").split() if w[:1].isalnum()]
    letters = "".join(w[0] for w in words[:2]).upper()
    return letters or "?"


def colour_class(key: str) -> str:
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
    return f"ph-{digest[0] % PALETTE}"


def percent(done: int | None, total: int | None) -> int:
    if not total or done is None:
        return 0
    return max(0, min(100, int(done * 100 / total)))


def query_url(path: str, params: dict[str, Any], **changes: Any) -> str:
    """``path?params`` with some changed; empty values are left out."""
    merged = {**params, **changes}
    clean = {k: v for k, v in merged.items() if v not in (None, "", False)}
    return f"{path}?{urlencode(clean)}" if clean else path


templates.env.filters.update(
    size=human_size,
    duration=human_duration,
    iso=iso,
    safe_url=safe_url,
    initials=initials,
    colour=colour_class,
)
templates.env.globals.update(percent=percent, query_url=query_url, nav=NAV)


def is_partial(request: Request) -> bool:
    """An htmx request for part of a page (not a boosted navigation, not a history restore)."""
    h = request.headers
    return (
        h.get("hx-request") == "true"
        and h.get("hx-boosted") != "true"
        and h.get("hx-history-restore-request") != "true"
    )


async def render(
    request: Request,
    template: str,
    data: dict[str, Any],
    *,
    principal: Principal,
    active: str,
    partial: str | None = None,
    status_code: int = 200,
) -> Response:
    """The page (or, for an htmx request, its ``partial``) with the layout's data."""
    if partial is not None and is_partial(request):
        return templates.TemplateResponse(request, partial, data, status_code=status_code)
    ctx: AppContext = request.app.state.ctx
    counts = await queue_counts(ctx.db)
    layout = {
        "csrf_token": principal.csrf_token or "",
        "username": principal.username,
        "version": __version__,
        "active": active,
        "queue_active": counts.get("queued", 0) + counts.get("downloading", 0),
    }
    response: HTMLResponse = templates.TemplateResponse(
        request, template, {**layout, **data}, status_code=status_code
    )
    return response
