"""Adding series from sources: register at once, then probe, list and store.

``add_series`` does it all in the foreground (CLI); the API calls ``start_add``, which
registers the series (so its key is known) and loads it in a background task. Each step
is stored in ``Series.loading_status`` and published as ``series_loading_update``. A
failed load leaves the series ``failed`` with its error and no episodes; it can be retried.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
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
from showkeeper.sources.base import (
    NotModified,
    SearchResult,
    SeriesInfo,
    SeriesRef,
    Source,
    SourceEnv,
)
from showkeeper.sources.fetching import source_env
from showkeeper.sources.filters import series_filter, validate_options
from showkeeper.sources.keys import (
    InvalidKeyError,
    check_key,
    key_for_title,
    normalize_url,
    slug_from_title,
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
    "AddFailedError",
    "InvalidSourceError",
    "RefreshSummary",
    "add_or_retry",
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


# A series whose key came from its URL because its title was unknown (its first probe
# failed) gets a readable key from its title when it first loads (retry_series).
_URL_KEY = "key_from_url"


def _placeholder_name(url: str) -> str:
    return url.split("://", 1)[-1][:500]


@dataclass(slots=True)
class _Probed:
    """A source already asked what the URL is; its client stays open for the listing, so
    adding a feed fetches it once."""

    env: SourceEnv
    source: Source
    kind: str
    info: SeriesInfo
    _stack: AsyncExitStack = field(repr=False)

    async def close(self) -> None:
        await self._stack.aclose()


async def _probe(env: SourceEnv, url: str, kind: str | None) -> tuple[str, Source, SeriesInfo]:
    kind = kind if kind is not None and kind != AUTO_KIND else await detect_kind(env, url)
    source = get_source(kind, env)
    return kind, source, await source.probe(url)


async def _open_probe(ctx: AppContext, url: str, kind: str | None) -> _Probed | str:
    """Probe ``url`` in a client that stays open; the error text when the probe fails."""
    stack = AsyncExitStack()
    try:
        env = await stack.enter_async_context(source_env(ctx.settings))
        found_kind, source, info = await _probe(env, url, kind)
    except ShowkeeperError as exc:
        await stack.aclose()
        return str(exc)
    except Exception as exc:
        await stack.aclose()
        log.exception("probing a source failed", url=url)
        return f"internal error ({type(exc).__name__}: {exc}); retry it"
    except BaseException:
        await stack.aclose()
        raise
    return _Probed(env, source, found_kind, info, stack)


def checked_source(
    url: str, kind: str | None, options: dict[str, Any] | None, key: str | None = None
) -> tuple[str, dict[str, Any]]:
    """The stored URL and clean options of a new series (or a preview). Raises
    InvalidSourceError, InvalidOptionsError."""
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
    return source_url, clean_options


def _conflict(same: str, key: str | None) -> ConflictError:
    return ConflictError(
        f"series {same!r} already has this "
        f"{'key' if same == key else 'source URL'}; open it instead of adding it again"
    )


async def _check_new(ctx: AppContext, source_url: str, key: str | None) -> None:
    """Refuse a URL or key already taken before the source is asked anything."""
    async with ctx.db.session() as s:
        same = await s.scalar(
            select(Series.key).where(or_(Series.source_url == source_url, Series.key == key))
        )
    if same is not None:
        raise _conflict(same, key)


async def _taken_keys(s: Any, base: str) -> set[str]:
    return set(
        await s.scalars(select(Series.key).where(Series.key.startswith(base, autoescape=True)))
    )


async def _new_key(s: Any, source_url: str, title: str | None) -> str:
    """A readable key from the title (host or number added only on a collision), else one
    from the URL."""
    if title:
        return key_for_title(
            title,
            source_url,
            await _taken_keys(s, slug_from_title(title) or slug_from_url(source_url)),
        )
    base = slug_from_url(source_url)
    return unique_key(base, await _taken_keys(s, base))


async def register_series(
    ctx: AppContext,
    url: str,
    *,
    kind: str | None = None,
    options: dict[str, Any] | None = None,
    key: str | None = None,
    title: str | None = None,
) -> Series:
    """Store a new series in state ``pending``; its key is final.

    The key is ``key`` when given, else made from ``title`` (``tour-show``; the source's host
    or a number is added only when that key is taken), else from the URL (when the title is
    not known yet: such a key is replaced by the title's when the series first loads).

    Raises:
        InvalidSourceError: bad URL, unknown kind or malformed key.
        InvalidOptionsError: bad filter options.
        ConflictError: the URL or the key is already a series.
    """
    source_url, clean_options = checked_source(url, kind, options, key)
    title = (title or "").strip()[:500] or None
    try:
        async with ctx.db.write() as s:
            same = await s.scalar(
                select(Series.key).where(or_(Series.source_url == source_url, Series.key == key))
            )
            if same is not None:
                raise _conflict(same, key)
            new_key = key if key is not None else await _new_key(s, source_url, title)
            folders = set(
                await s.scalars(
                    select(Series.folder).where(Series.folder.startswith(new_key, autoescape=True))
                )
            )
            row = Series(
                key=new_key,
                folder=unique_folder(new_key, folders),
                name=title or _placeholder_name(source_url),
                source_kind=kind or AUTO_KIND,
                source_url=source_url,
                loading_status=PENDING,
                options=clean_options,
                source_state={_URL_KEY: True} if key is None and title is None else {},
            )
            s.add(row)
    except IntegrityError:
        raise ConflictError(
            f"a series with key {key or title or source_url!r} or this source URL was just added; "
            "open it instead"
        ) from None
    _publish(ctx, row.key, PENDING)
    return row


async def _register_probed(
    ctx: AppContext,
    url: str,
    *,
    kind: str | None,
    options: dict[str, Any] | None,
    key: str | None,
    title: str | None,
) -> tuple[Series, _Probed | None, str | None]:
    """Register a new series, asking its source for the title first when neither a key nor
    a title is given. Returns the row, the open probe (the load continues with it) and the
    probe's error (then the series is stored ``failed`` under a key from its URL)."""
    source_url, _ = checked_source(url, kind, options, key)
    probed: _Probed | None = None
    error: str | None = None
    if key is None and title is None:
        await _check_new(ctx, source_url, key)
        found = await _open_probe(ctx, source_url, kind)
        probed, error = (found, None) if isinstance(found, _Probed) else (None, found)
    try:
        row = await register_series(
            ctx,
            url,
            kind=probed.kind if probed is not None else kind,
            options=options,
            key=key,
            title=probed.info.title if probed is not None else title,
        )
    except BaseException:
        if probed is not None:
            await probed.close()
        raise
    if error is not None:
        await _set_status(ctx, row.key, FAILED, error)
        row.loading_status, row.loading_error = FAILED, error
    return row, probed, error


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


async def load_series(ctx: AppContext, key: str, probed: _Probed | None = None) -> Series:
    """Probe the source, list its episodes and store them; the series ends ``completed``.

    ``probed``: the source already probed for this series (closed here).

    Raises:
        NotFoundError: no such series.
        ShowkeeperError: the source failed (the series is then ``failed`` with the message).
    """
    async with ctx.db.session() as s:
        row = await series_row(s, key)
    if row is None or row.source_url is None:
        if probed is not None:
            await probed.close()
        raise NotFoundError(f"no series with key {key!r} and a source")
    try:
        return await _load(ctx, row, probed)
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


async def _load(ctx: AppContext, row: Series, probed: _Probed | None) -> Series:
    key, url = row.key, str(row.source_url)
    await _set_status(ctx, key, PROBING)
    async with AsyncExitStack() as stack:
        if probed is not None:
            stack.push_async_callback(probed.close)
            kind, source, info = probed.kind, probed.source, probed.info
        else:
            env = await stack.enter_async_context(source_env(ctx.settings))
            kind, source, info = await _probe(env, url, row.source_kind)
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


class AddFailedError(ShowkeeperError):
    """Adding a series failed at its source; the series is recorded ``failed`` under
    ``key`` and adding the same URL again retries it."""

    status_code = 502

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key


async def add_series(
    ctx: AppContext,
    url: str,
    *,
    kind: str | None = None,
    options: dict[str, Any] | None = None,
    key: str | None = None,
    title: str | None = None,
) -> Series:
    """Register and load a series in the foreground; returns it ``completed``.

    Without ``key`` and ``title`` the source is probed first, so the key is made from its
    title, and the listing reuses that probe (a feed is fetched once).

    Raises:
        ShowkeeperError: as :func:`register_series` (nothing is stored then).
        AddFailedError: the source failed; the series is recorded ``failed``.
    """
    row, probed, error = await _register_probed(
        ctx, url, kind=kind, options=options, key=key, title=title
    )
    if error is not None:
        raise AddFailedError(error, row.key)
    try:
        return await load_series(ctx, row.key, probed)
    except ShowkeeperError as exc:
        raise AddFailedError(str(exc), row.key) from None


async def add_or_retry(
    ctx: AppContext,
    url: str,
    known: KnownSeries | None,
    *,
    kind: str | None = None,
    options: dict[str, Any] | None = None,
    key: str | None = None,
) -> Series:
    """Add the series at ``url`` in the foreground, or, when its earlier add failed
    (``known``, from :func:`series_for_url`), load it again: adding the same URL once the
    problem is fixed is the retry.

    Raises:
        ShowkeeperError: as :func:`register_series` for a new URL (nothing is stored then).
        AddFailedError: the source failed; the series is recorded ``failed`` under its key.
    """
    if known is None or known.loading_status != FAILED:
        return await add_series(ctx, url, kind=kind, options=options, key=key)
    try:
        return await retry_series(ctx, known.key, background=False)
    except AddFailedError:
        raise
    except ShowkeeperError as exc:
        now = await series_for_url(ctx, url)  # its first good probe may have renamed it
        raise AddFailedError(str(exc), known.key if now is None else now.key) from None


async def _load_quietly(ctx: AppContext, key: str, probed: _Probed | None = None) -> None:
    """Background load: a source failure is recorded on the series, not re-raised."""
    try:
        await load_series(ctx, key, probed)
    except ShowkeeperError as exc:
        log.info("adding a series failed", key=key, error=str(exc))


async def start_add(
    ctx: AppContext,
    url: str,
    *,
    kind: str | None = None,
    options: dict[str, Any] | None = None,
    key: str | None = None,
    title: str | None = None,
) -> Series:
    """Register the series and load it in the background (``ctx.spawn``).

    Without ``key`` and ``title`` the source is probed before this returns, so the key
    answered is the one made from the title; a failed probe answers the series ``failed``.
    """
    row, probed, error = await _register_probed(
        ctx, url, kind=kind, options=options, key=key, title=title
    )
    if error is None:
        ctx.spawn(_load_quietly(ctx, row.key, probed), name=f"add-series-{row.key}")
    return row


async def _rekey(ctx: AppContext, key: str, title: str, url: str) -> str:
    """Give a series whose key came from its URL the key its title makes (it never loaded:
    no episode, file or history names it)."""
    async with ctx.db.write() as s:
        base = slug_from_title(title) or slug_from_url(url)
        new_key = key_for_title(title, url, await _taken_keys(s, base) - {key})
        await s.execute(
            update(Series).where(Series.key == key).values(key=new_key, source_state={})
        )
    if new_key != key:
        log.info("series key made from its title", key=new_key, previous_key=key)
        _publish(ctx, new_key, PENDING, previous_key=key)
    return new_key


async def retry_series(ctx: AppContext, key: str, *, background: bool = True) -> Series:
    """Load a ``failed`` series again.

    A series whose key came from its URL (its first probe failed) is probed before this
    returns and gets the key its title makes; the returned row has it.

    Raises:
        NotFoundError: no such series.
        ConflictError: the series is not failed (loading or already loaded).
        ShowkeeperError: (foreground only) the source failed again.
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
        url_key = bool((row.source_state or {}).get(_URL_KEY)) and row.source_url is not None
    _publish(ctx, key, PENDING)
    probed: _Probed | None = None
    if url_key:
        found = await _open_probe(ctx, str(row.source_url), row.source_kind)
        if isinstance(found, str):
            await _set_status(ctx, key, FAILED, found)
            if not background:
                raise ShowkeeperError(found)
            row.loading_status, row.loading_error = FAILED, found
            return row
        probed = found
        try:
            key = row.key = await _rekey(ctx, key, found.info.title, str(row.source_url))
        except BaseException:
            await found.close()
            raise
    if background:
        ctx.spawn(_load_quietly(ctx, key, probed), name=f"retry-series-{key}")
        return row
    return await load_series(ctx, key, probed)


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
