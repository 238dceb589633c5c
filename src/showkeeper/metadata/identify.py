"""Identify: list TMDB candidates for a series, and set (or clear) its match by hand.

Candidate posters are fetched through the guarded client, checked like any artwork and
cached under ``data_dir/artwork-cache/tmdb`` so the browser loads them from us (the CSP's
``img-src 'self'`` stays) and TMDB is asked once per image.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from showkeeper.context import AppContext
from showkeeper.db.models import Series
from showkeeper.errors import NotFoundError, ShowkeeperError
from showkeeper.metadata.artwork import prepare_image
from showkeeper.metadata.images import fetch_image
from showkeeper.metadata.matching import Candidate
from showkeeper.metadata.serve import CACHE_DIR
from showkeeper.metadata.tmdb import TmdbClient, TmdbNotFoundError, is_image_path

POSTER_SIZE = "w342"


class IdentifyError(ShowkeeperError):
    status_code = 400


async def _series(ctx: AppContext, key: str) -> Series:
    async with ctx.db.session() as s:
        row = await s.scalar(select(Series).where(Series.key == key))
    if row is None:
        raise NotFoundError(f"no series with key {key[:200]!r}")
    return row


async def candidates(ctx: AppContext, key: str, query: str | None) -> dict[str, Any]:
    """TMDB's search results for ``query`` (default: the series' name)."""
    series = await _series(ctx, key)
    q = (query or series.name).strip()[:200]
    if not q:
        raise IdentifyError("give a title to search for (q)")
    async with TmdbClient(ctx.settings) as tmdb:
        results = await tmdb.search_tv(q)
    items = []
    for result in results[:20]:
        c = Candidate.from_result(result)
        poster = c.poster_path if is_image_path(c.poster_path) else None
        items.append(
            {
                "tmdb_id": c.tmdb_id,
                "title": c.title,
                "year": c.year,
                "overview": c.overview,
                "poster_url": f"/api/metadata/tmdb-poster{poster}" if poster else None,
                "current": c.tmdb_id == series.tmdb_id,
            }
        )
    return {
        "key": series.key,
        "query": q,
        "tmdb_id": series.tmdb_id,
        "tmdb_match": series.tmdb_match,
        "candidates": items,
    }


async def set_match(ctx: AppContext, key: str, tmdb_id: int | None) -> dict[str, Any]:
    """Set the TMDB id chosen by the user (None: "no TMDB match"), checked with TMDB first."""
    series = await _series(ctx, key)
    name = None
    if tmdb_id is not None:
        async with TmdbClient(ctx.settings) as tmdb:
            try:
                show = await tmdb.tv(tmdb_id)
            except TmdbNotFoundError:
                raise IdentifyError(f"TMDB has no series with id {tmdb_id}") from None
        name = show.get("name")
    async with ctx.db.write() as s:
        await s.execute(
            update(Series)
            .where(Series.id == series.id)
            .values(tmdb_id=tmdb_id, tmdb_match="manual" if tmdb_id else "none", image_url=None)
        )
    return {"key": series.key, "tmdb_id": tmdb_id, "tmdb_name": name}


async def tmdb_poster(ctx: AppContext, path: str) -> Path:
    """A candidate's poster (``/abc.jpg``), fetched once and cached.

    Raises:
        NotFoundError: not a TMDB image path, or TMDB has no such image.
    """
    if not is_image_path(path) or path.endswith(".svg"):
        raise NotFoundError("not a TMDB image path")
    cached = (
        ctx.settings.data_dir / CACHE_DIR / "tmdb" / f"{path.lstrip('/').rsplit('.', 1)[0]}.jpg"
    )
    if cached.exists():
        return cached
    max_bytes = ctx.settings.artwork_max_mb * 1024 * 1024
    async with TmdbClient(ctx.settings) as tmdb:
        base = await tmdb.configuration()
        try:
            data = await fetch_image(
                tmdb.http, base.url(path, POSTER_SIZE), "p.jpg", max_bytes=max_bytes
            )
        except ShowkeeperError as exc:
            raise NotFoundError(f"poster not available ({exc})") from None

    def store() -> None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f".{cached.name}.tmp")
        tmp.write_bytes(prepare_image(data, "p.jpg", max_bytes=max_bytes))
        tmp.replace(cached)

    await asyncio.to_thread(store)
    return cached
