"""Refresh limits and bulk storage (SQLite here; PostgreSQL when one is configured)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from showkeeper.config import Settings
from showkeeper.context import AppContext, open_context
from showkeeper.db.models import Episode, Series
from showkeeper.domain.candidates import Candidate
from showkeeper.sources.base import RemoteEpisode
from showkeeper.sources.service import add_series, recover_interrupted, refresh_all
from showkeeper.sources.store import plan_listing, stored_episodes, write_listing
from tests.pg import fresh_pg_database
from tests.sources_docs import podcast_item, podcast_rss

from .conftest import Site


async def test_per_host_and_global_limits(ctx: AppContext, site: Site) -> None:
    ctx.settings = ctx.settings.model_copy(
        update={"source_per_host_concurrency": 2, "source_refresh_concurrency": 8}
    )
    for n in range(6):
        site.put(f"/f{n}.xml", podcast_rss([podcast_item(1)], title=f"Show {n}"))
        await add_series(ctx, site.url(f"/f{n}.xml"))
    site.delay = 0.05
    site.max_inflight = 0
    summary = await refresh_all(ctx)
    assert summary.changed == 6
    assert site.max_inflight == 2  # the per-host limit, reached and never passed

    ctx.settings = ctx.settings.model_copy(
        update={"source_per_host_concurrency": 8, "source_refresh_concurrency": 3}
    )
    site.max_inflight = 0
    await refresh_all(ctx)
    assert site.max_inflight == 3  # now the global limit binds


async def test_interrupted_loads_are_marked_failed(ctx: AppContext) -> None:
    async with ctx.db.write() as s:
        s.add(
            Series(
                key="stuck",
                folder="stuck",
                name="x",
                source_kind="feed",
                source_url="http://x/",
                loading_status="probing",
            )
        )
        s.add(
            Series(
                key="fine",
                folder="fine",
                name="y",
                source_kind="feed",
                source_url="http://y/",
                loading_status="completed",
            )
        )
    assert await recover_interrupted(ctx) == 1
    async with ctx.db.session() as s:
        rows = {r.key: r for r in await s.scalars(select(Series))}
    assert rows["stuck"].loading_status == "failed" and "retry" in (
        rows["stuck"].loading_error or ""
    )
    assert rows["fine"].loading_status == "completed"


def remote(n: int, *, number: int | None = None, rid: str | None = None) -> RemoteEpisode:
    return RemoteEpisode(
        remote_id=rid or f"id-{n}",
        season=1,
        episode=number,
        title=f"T{n}",
        air_date=date(2024, 1, 1) + timedelta(days=n - 1),
        candidates=(Candidate(url=f"http://h/{n}.mp4"),),
    )


async def exercise_store(ctx: AppContext) -> None:
    async with ctx.db.write() as s:
        series = Series(key="k", folder="k", name="k", source_kind="feed", source_url="http://h/")
        s.add(series)
        await s.flush()
        sid = series.id
        # the library already knows S01E02 from disk
        s.add(
            Episode(
                series_id=sid,
                season=1,
                episode=2,
                at_source=False,
                is_downloaded=True,
                file_path="k/2.mp4",
            )
        )
    now = datetime.now(UTC)
    async with ctx.db.write() as s:
        stored = (await stored_episodes(s, [sid]))[sid]
        plan = plan_listing(sid, [remote(n) for n in range(1, 1201)], stored, now)
        await write_listing(s, plan)
    assert len(plan.added) == 1200
    async with ctx.db.write() as s:  # same listing again: nothing new, nothing duplicated
        stored = (await stored_episodes(s, [sid]))[sid]
        plan = plan_listing(sid, [remote(n) for n in range(1, 1201)], stored, now)
        await write_listing(s, plan)
    assert plan.added == []
    async with ctx.db.session() as s:
        rows = list(
            await s.scalars(
                select(Episode).where(Episode.series_id == sid).order_by(Episode.episode)
            )
        )
    assert len(rows) == 1200
    assert rows[1].is_downloaded and rows[1].file_path == "k/2.mp4" and rows[1].at_source
    assert rows[1].remote_id == "id-2" and rows[1].candidates[0]["url"] == "http://h/2.mp4"
    assert rows[0].title == "T1" and rows[0].air_date == date(2024, 1, 1)


async def test_bulk_upsert_sqlite(ctx: AppContext) -> None:
    await exercise_store(ctx)


@pytest.mark.postgres
async def test_bulk_upsert_postgres(settings: Settings) -> None:
    async with fresh_pg_database() as url:
        pg_settings = settings.model_copy(update={"database_url": url})
        async with open_context(pg_settings) as ctx:
            await exercise_store(ctx)
