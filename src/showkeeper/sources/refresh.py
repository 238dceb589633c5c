"""Refreshing sources: many series at once, politely, storing changes in batches.

Fetching runs under a global limit (``source_refresh_concurrency``) and a per-host limit
(``source_per_host_concurrency``); feeds use conditional GET (ETag/Last-Modified kept in
``Series.source_state``), and the HTTP client backs off on 429/5xx honouring Retry-After.
Results go through a queue to one writer that stores them in short batched transactions,
and new episodes are published as ``episodes_added``.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update

from showkeeper.context import AppContext
from showkeeper.db.models import Series
from showkeeper.domain.filters import EpisodeFilter
from showkeeper.errors import ConflictError, NotFoundError, ShowkeeperError
from showkeeper.logging import get_logger
from showkeeper.sources.base import NotModified, RemoteEpisode, SeriesRef, Source, SourceEnv
from showkeeper.sources.fetching import source_env
from showkeeper.sources.filters import series_filter
from showkeeper.sources.registry import get_source, kinds
from showkeeper.sources.store import ListingPlan, plan_listing, stored_episodes, write_listing

log = get_logger(__name__)

WRITE_BATCH = 64
EVENT_EPISODES_SHOWN = 50


@dataclass(slots=True)
class RefreshSummary:
    """What a refresh did."""

    series: int = 0
    changed: int = 0
    not_modified: int = 0
    failed: int = 0
    episodes_added: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    duration_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "series": self.series,
            "changed": self.changed,
            "not_modified": self.not_modified,
            "failed": self.failed,
            "episodes_added": self.episodes_added,
            "errors": dict(self.errors),
            "duration_s": round(self.duration_s, 3),
        }


@dataclass(slots=True)
class _Target:
    id: int
    ref: SeriesRef


@dataclass(slots=True)
class _Outcome:
    target: _Target
    episodes: list[RemoteEpisode] | None = None
    rules: EpisodeFilter | None = None
    not_modified: bool = False
    error: str | None = None


async def refresh_all(ctx: AppContext) -> RefreshSummary:
    """Refresh every loaded series that has a source."""
    async with ctx.db.session() as s:
        rows = await s.execute(
            select(
                Series.id,
                Series.key,
                Series.source_url,
                Series.source_kind,
                Series.options,
                Series.source_state,
            ).where(
                Series.loading_status == "completed",
                Series.source_url.is_not(None),
                Series.source_kind.in_(kinds()),
            )
        )
        targets = [_target(*row) for row in rows]
    return await _refresh(ctx, targets)


async def refreshable(ctx: AppContext, key: str) -> _Target:
    """The series ``key`` ready to refresh.

    Raises:
        NotFoundError: no such series.
        ConflictError: it has no source, or is not loaded (loading now, or failed).
    """
    async with ctx.db.session() as s:
        row = await s.scalar(select(Series).where(Series.key == key))
    if row is None:
        raise NotFoundError(f"no series with key {key!r}")
    if row.loading_status != "completed":
        hint = "retry it" if row.loading_status == "failed" else "wait until it is loaded"
        raise ConflictError(f"series {key!r} is {row.loading_status}; {hint}")
    if row.source_url is None or row.source_kind not in kinds():
        raise ConflictError(f"series {key!r} has no source to refresh")
    return _target(row.id, row.key, row.source_url, row.source_kind, row.options, row.source_state)


async def refresh_series(ctx: AppContext, key: str) -> RefreshSummary:
    """Refresh one series. Raises as :func:`refreshable`."""
    return await _refresh(ctx, [await refreshable(ctx, key)])


def _target(
    series_id: int,
    key: str,
    url: str,
    kind: str,
    options: dict[str, Any] | None,
    state: dict[str, Any] | None,
) -> _Target:
    ref = SeriesRef(
        key=key, url=url, kind=kind, options=dict(options or {}), state=dict(state or {})
    )
    return _Target(id=series_id, ref=ref)


async def _refresh(ctx: AppContext, targets: list[_Target]) -> RefreshSummary:
    started = time.perf_counter()
    summary = RefreshSummary(series=len(targets))
    async with source_env(ctx.settings) as env:
        await _fetch_all(ctx, env, targets, summary)
    summary.duration_s = time.perf_counter() - started
    log.info("sources refreshed", **{k: v for k, v in summary.as_dict().items() if k != "errors"})
    return summary


async def _fetch_all(
    ctx: AppContext, env: SourceEnv, targets: list[_Target], summary: RefreshSummary
) -> None:
    """List every target under the limits; one writer stores the outcomes as they come."""
    settings = ctx.settings
    queue: asyncio.Queue[_Outcome | None] = asyncio.Queue()
    overall = asyncio.Semaphore(settings.source_refresh_concurrency)
    per_host: defaultdict[str, asyncio.Semaphore] = defaultdict(
        lambda: asyncio.Semaphore(settings.source_per_host_concurrency)
    )
    sources: dict[str, Source] = {}

    async def one(target: _Target) -> None:
        host = (urlsplit(target.ref.url).hostname or "").lower()
        async with overall, per_host[host]:
            outcome = await _list(env, sources, target)
        await queue.put(outcome)

    writer = asyncio.create_task(_writer(ctx, queue, summary))
    try:
        await asyncio.gather(*(one(t) for t in targets))
    finally:
        await queue.put(None)
        await writer


async def _list(env: SourceEnv, sources: dict[str, Source], target: _Target) -> _Outcome:
    ref = target.ref
    try:
        source = sources.get(ref.kind)
        if source is None:
            source = sources[ref.kind] = get_source(ref.kind, env)
        episodes = await source.episodes(ref)
        rules = series_filter(ref.options)
        return _Outcome(target, episodes=episodes, rules=rules)
    except NotModified:
        return _Outcome(target, not_modified=True)
    except ShowkeeperError as exc:
        return _Outcome(target, error=str(exc))
    except Exception as exc:  # a plugin's bug must not stop the other series
        log.exception("source failed during refresh", key=ref.key, kind=ref.kind)
        return _Outcome(target, error=f"internal error ({type(exc).__name__}: {exc})")


async def _writer(
    ctx: AppContext, queue: asyncio.Queue[_Outcome | None], summary: RefreshSummary
) -> None:
    """Store outcomes in batches: take what is queued (up to WRITE_BATCH), write, repeat."""
    done = False
    while not done:
        first = await queue.get()
        if first is None:
            return
        batch = [first]
        while len(batch) < WRITE_BATCH and not queue.empty():
            item = queue.get_nowait()
            if item is None:
                done = True
                break
            batch.append(item)
        try:
            await _write_batch(ctx, batch, summary)
        except Exception as exc:
            log.exception("storing refresh results failed")
            for outcome in batch:
                summary.failed += 1
                summary.errors[outcome.target.ref.key] = f"could not store the result ({exc})"


async def _write_batch(ctx: AppContext, batch: list[_Outcome], summary: RefreshSummary) -> None:
    now = datetime.now(UTC)
    stamp = now.isoformat()
    state_updates: list[dict[str, Any]] = []
    events: list[tuple[str, list[RemoteEpisode]]] = []
    plans: list[ListingPlan] = []
    async with ctx.db.write() as s:
        listed = [o for o in batch if o.episodes is not None]
        stored = await stored_episodes(s, [o.target.id for o in listed])
        for outcome in batch:
            ref = outcome.target.ref
            state = dict(ref.state)
            state["last_checked"] = stamp
            if outcome.error is not None:
                state["last_error"] = outcome.error
                state["last_error_at"] = stamp
            else:
                state["last_error"] = None
                state["last_refresh"] = stamp
            if outcome.episodes is not None:
                plan = plan_listing(
                    outcome.target.id,
                    outcome.episodes,
                    stored[outcome.target.id],
                    now,
                    rules=outcome.rules,
                )
                plans.append(plan)
                if plan.added:
                    events.append((ref.key, plan.added))
            state_updates.append({"id": outcome.target.id, "source_state": state})
        await write_listing(s, *plans)
        await s.execute(update(Series), state_updates)
    for outcome in batch:
        key = outcome.target.ref.key
        if outcome.error is not None:
            summary.failed += 1
            summary.errors[key] = outcome.error
        elif outcome.not_modified:
            summary.not_modified += 1
        else:
            summary.changed += 1
    done = summary.changed + summary.not_modified + summary.failed
    ctx.bus.publish("refresh_progress", done=done, total=summary.series, failed=summary.failed)
    for key, added in events:
        summary.episodes_added += len(added)
        ctx.bus.publish(
            "episodes_added",
            key=key,
            count=len(added),
            episodes=[
                {"season": e.season, "episode": e.episode, "title": e.title}
                for e in added[:EVENT_EPISODES_SHOWN]
            ],
        )
