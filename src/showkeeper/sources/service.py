"""Adding series from sources: register at once, then probe, list and store.

``add_series`` does it all in the foreground (CLI); the API calls ``start_add``, which
registers the series (so its key is known) and loads it in a background task. Each step
is stored in ``Series.loading_status`` and published as ``series_loading_update``. A
failed load leaves the series ``failed`` with its error and no episodes; it can be retried.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from showkeeper.context import AppContext
from showkeeper.db.models import Series
from showkeeper.domain.paths import UnsafePathError, series_folder_name
from showkeeper.errors import ConflictError, NotFoundError, ShowkeeperError
from showkeeper.logging import get_logger
from showkeeper.net import UnsafeURLError
from showkeeper.sources.base import NotModified, SearchResult, SeriesInfo, SeriesRef
from showkeeper.sources.fetching import source_env
from showkeeper.sources.filters import series_filter, validate_options
from showkeeper.sources.keys import (
    InvalidKeyError,
    check_key,
    normalize_url,
    slug_from_url,
    unique_folder,
    unique_key,
)
from showkeeper.sources.refresh import RefreshSummary, refresh_all, refresh_series
from showkeeper.sources.registry import detect_kind, get_source, kinds
from showkeeper.sources.store import plan_listing, series_row, stored_episodes, write_listing

log = get_logger(__name__)

PENDING = "pending"
PROBING = "probing"
LOADING_EPISODES = "loading_episodes"
SAVING = "saving"
COMPLETED = "completed"
FAILED = "failed"
IN_PROGRESS = (PENDING, PROBING, LOADING_EPISODES, SAVING)
AUTO_KIND = "auto"

__all__ = [
    "COMPLETED",
    "FAILED",
    "IN_PROGRESS",
    "InvalidSourceError",
    "RefreshSummary",
    "add_series",
    "load_series",
    "refresh_all",
    "refresh_series",
    "register_series",
    "retry_series",
    "search_sources",
    "start_add",
]


class InvalidSourceError(ShowkeeperError):
    """The URL, kind or key given for a new series cannot be used."""

    status_code = 400


def _placeholder_name(url: str) -> str:
    return url.split("://", 1)[-1][:500]


async def register_series(
    ctx: AppContext,
    url: str,
    *,
    kind: str | None = None,
    options: dict[str, Any] | None = None,
    key: str | None = None,
) -> Series:
    """Store a new series in state ``pending``; its key is final, its title comes later.

    Raises:
        InvalidSourceError: bad URL, unknown kind or malformed key.
        InvalidOptionsError: bad filter options.
        ConflictError: the URL or the key is already a series.
    """
    try:
        source_url = normalize_url(url)
    except UnsafeURLError as exc:
        raise InvalidSourceError(str(exc)) from None
    if kind is not None and kind != AUTO_KIND and kind not in kinds():
        raise InvalidSourceError(f"unknown source kind {kind!r}; known kinds: {', '.join(kinds())}")
    clean_options = validate_options(options)
    if key is not None:
        try:
            check_key(key)
        except InvalidKeyError as exc:
            raise InvalidSourceError(str(exc)) from None
    base = key or slug_from_url(source_url)
    try:
        async with ctx.db.write() as s:
            same = await s.scalar(
                select(Series.key).where(or_(Series.source_url == source_url, Series.key == key))
            )
            if same is not None:
                raise ConflictError(
                    f"series {same!r} already has this "
                    f"{'key' if same == key else 'source URL'}; open it instead of adding it again"
                )
            keys = set(
                await s.scalars(
                    select(Series.key).where(Series.key.startswith(base, autoescape=True))
                )
            )
            new_key = base if key is not None else unique_key(base, keys)
            folders = set(
                await s.scalars(
                    select(Series.folder).where(Series.folder.startswith(new_key, autoescape=True))
                )
            )
            row = Series(
                key=new_key,
                folder=unique_folder(new_key, folders),
                name=_placeholder_name(source_url),
                source_kind=kind or AUTO_KIND,
                source_url=source_url,
                loading_status=PENDING,
                options=clean_options,
                source_state={},
            )
            s.add(row)
    except IntegrityError:
        raise ConflictError(
            f"a series with key {base!r} or this source URL was just added; open it instead"
        ) from None
    _publish(ctx, row.key, PENDING)
    return row


def _publish(ctx: AppContext, key: str, status: str, **extra: Any) -> None:
    ctx.bus.publish("series_loading_update", key=key, status=status, **extra)


async def _set_status(
    ctx: AppContext, key: str, status: str, error: str | None = None, **values: Any
) -> None:
    async with ctx.db.write() as s:
        await s.execute(
            update(Series)
            .where(Series.key == key)
            .values(
                loading_status=status, loading_error=error, updated_at=datetime.now(UTC), **values
            )
        )
    _publish(ctx, key, status, **({"error": error} if error else {}))


async def load_series(ctx: AppContext, key: str) -> Series:
    """Probe the source, list its episodes and store them; the series ends ``completed``.

    Raises:
        NotFoundError: no such series.
        ShowkeeperError: the source failed (the series is then ``failed`` with the message).
    """
    async with ctx.db.session() as s:
        row = await series_row(s, key)
    if row is None or row.source_url is None:
        raise NotFoundError(f"no series with key {key!r} and a source")
    try:
        return await _load(ctx, row)
    except ShowkeeperError as exc:
        await _set_status(ctx, key, FAILED, str(exc))
        raise
    except asyncio.CancelledError:
        await _set_status(ctx, key, FAILED, "interrupted before it finished; retry it")
        raise
    except Exception as exc:
        log.exception("loading a series failed", key=key)
        await _set_status(
            ctx, key, FAILED, f"internal error ({type(exc).__name__}: {exc}); retry it"
        )
        raise


async def _load(ctx: AppContext, row: Series) -> Series:
    key, url = row.key, str(row.source_url)
    await _set_status(ctx, key, PROBING)
    async with source_env(ctx.settings) as env:
        kind = row.source_kind if row.source_kind != AUTO_KIND else await detect_kind(env, url)
        source = get_source(kind, env)
        info = await source.probe(url)
        await _set_status(ctx, key, LOADING_EPISODES, source_kind=kind)
        ref = SeriesRef(key=key, url=url, kind=kind, options=dict(row.options or {}), state={})
        try:
            episodes = await source.episodes(ref)
        except NotModified:  # nothing was sent conditionally; a plugin may still say so
            episodes = []
    await _set_status(ctx, key, SAVING)
    rules = series_filter(ref.options)
    now = datetime.now(UTC)
    async with ctx.db.write() as s:
        stored = (await stored_episodes(s, [row.id]))[row.id]
        plan = plan_listing(row.id, episodes, stored, now, rules=rules)
        await write_listing(s, plan)
        folder = await _folder_for(s, row.id, info)
        state = {**ref.state, "last_refresh": now.isoformat(), "last_error": None}
        await s.execute(
            update(Series)
            .where(Series.id == row.id)
            .values(
                name=info.title,
                folder=folder,
                year=info.year,
                overview=info.overview,
                language=(info.language or None) and info.language[:20],
                image_url=info.images[0] if info.images else None,
                source_kind=kind,
                source_state=state,
                loading_status=COMPLETED,
                loading_error=None,
                updated_at=now,
            )
        )
        saved = await series_row(s, key)
    _publish(ctx, key, COMPLETED, name=info.title, episodes=len(plan.rows))
    assert saved is not None
    return saved


async def _folder_for(s: Any, series_id: int, info: SeriesInfo) -> str:
    try:
        base = series_folder_name(info.title, info.year)
    except UnsafePathError:
        base = series_folder_name(info.title)
    taken = await s.scalars(
        select(Series.folder).where(
            Series.folder.startswith(base, autoescape=True), Series.id != series_id
        )
    )
    return unique_folder(base, set(taken))


async def add_series(
    ctx: AppContext,
    url: str,
    *,
    kind: str | None = None,
    options: dict[str, Any] | None = None,
    key: str | None = None,
) -> Series:
    """Register and load a series in the foreground; returns it ``completed``.

    Raises:
        ShowkeeperError: as :func:`register_series` and :func:`load_series`.
    """
    row = await register_series(ctx, url, kind=kind, options=options, key=key)
    return await load_series(ctx, row.key)


async def _load_quietly(ctx: AppContext, key: str) -> None:
    """Background load: a source failure is recorded on the series, not re-raised."""
    try:
        await load_series(ctx, key)
    except ShowkeeperError as exc:
        log.info("adding a series failed", key=key, error=str(exc))


async def start_add(
    ctx: AppContext,
    url: str,
    *,
    kind: str | None = None,
    options: dict[str, Any] | None = None,
    key: str | None = None,
) -> Series:
    """Register the series and load it in the background (``ctx.spawn``)."""
    row = await register_series(ctx, url, kind=kind, options=options, key=key)
    ctx.spawn(_load_quietly(ctx, row.key), name=f"add-series-{row.key}")
    return row


async def retry_series(ctx: AppContext, key: str, *, background: bool = True) -> Series:
    """Load a ``failed`` series again.

    Raises:
        NotFoundError: no such series.
        ConflictError: the series is not failed (loading or already loaded).
    """
    async with ctx.db.write() as s:
        row = await series_row(s, key)
        if row is None:
            raise NotFoundError(f"no series with key {key!r}")
        if row.loading_status != FAILED:
            hint = (
                "it is loading now" if row.loading_status in IN_PROGRESS else "refresh it instead"
            )
            raise ConflictError(f"series {key!r} is {row.loading_status}, not failed; {hint}")
        row.loading_status = PENDING
        row.loading_error = None
    _publish(ctx, key, PENDING)
    if background:
        ctx.spawn(_load_quietly(ctx, key), name=f"retry-series-{key}")
        return row
    return await load_series(ctx, key)


async def recover_interrupted(ctx: AppContext) -> int:
    """Mark loads left unfinished by a stopped process as failed, so they can be retried."""
    async with ctx.db.write() as s:
        result = await s.execute(
            update(Series)
            .where(Series.loading_status.in_(IN_PROGRESS))
            .values(
                loading_status=FAILED,
                loading_error="showkeeper stopped before loading finished; retry it",
            )
        )
    return int(getattr(result, "rowcount", 0) or 0)


async def search_sources(
    ctx: AppContext, query: str, *, kind: str = "feed", limit: int = 20
) -> list[SearchResult]:
    """Search the directory of a source kind (feeds: the iTunes podcast directory)."""
    async with source_env(ctx.settings) as env:
        return await get_source(kind, env).search(query, limit=limit)


@dataclass(frozen=True, slots=True)
class KnownSeries:
    """The series already added from a source URL."""

    id: int
    key: str
    loading_status: str


async def series_for_url(ctx: AppContext, url: str) -> KnownSeries | None:
    """The series added from this source URL (compared in its stored form), or None.

    Raises:
        InvalidSourceError: the URL cannot be a source.
    """
    try:
        source_url = normalize_url(url)
    except UnsafeURLError as exc:
        raise InvalidSourceError(str(exc)) from None
    async with ctx.db.session() as s:
        row = (
            await s.execute(
                select(Series.id, Series.key, Series.loading_status).where(
                    Series.source_url == source_url
                )
            )
        ).first()
    return None if row is None else KnownSeries(int(row.id), str(row.key), str(row.loading_status))
