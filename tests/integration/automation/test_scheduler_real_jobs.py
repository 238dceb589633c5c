"""The scheduler with its real jobs: a due daily rescan finds an episode gone from disk and
auto-download queues it; inside the 5-minute cooldown auto-download waits.

Everything is real but the clock: the server's context and services (no download workers, so
queue rows stay queued), a feed on a local HTTP server, the library on disk, and SQLite or
PostgreSQL (when SHOWKEEPER_TEST_PG_URL is set).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from showkeeper.automation.jobs import Jobs
from showkeeper.automation.scheduler import Scheduler
from showkeeper.config import Settings
from showkeeper.context import AppContext, open_context
from showkeeper.db.models import Episode, QueueItem
from showkeeper.downloads.worker import WorkerPool
from showkeeper.library.service import run_scan
from showkeeper.metadata.loader import MetadataLoader
from showkeeper.metrics import Metrics
from showkeeper.services import build_services, make_scheduler
from showkeeper.sources.service import add_series
from tests.integration.downloads.servers import MediaServer, Resource
from tests.integration.library.helpers import on_disk
from tests.pg import fresh_pg_database
from tests.scheduler_clock import FakeClock
from tests.sources_docs import podcast_item, podcast_rss

MON_0200 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # a Monday; the rescan is at 03:00
MON_0300 = MON_0200 + timedelta(hours=1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def server_ctx(
    request: pytest.FixtureRequest, settings: Settings
) -> AsyncIterator[AppContext]:
    """The server's context and services (scheduler and download workers switched off)."""
    settings = settings.model_copy(
        update={
            "scheduler_time": "03:00",
            "scheduler_weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "scheduler_timezone": "UTC",
            "auto_download": True,
        }
    )
    assert not settings.scheduler_enabled and not settings.download_workers_in_server
    if request.param == "sqlite":
        async with open_context(settings, services=build_services) as ctx:
            yield ctx
        return
    async with fresh_pg_database() as url:
        pg = settings.model_copy(update={"database_url": url})
        async with open_context(pg, services=build_services) as ctx:
            yield ctx


def build_scheduler(ctx: AppContext, clock: FakeClock) -> Scheduler:
    """As the server builds it (services.make_scheduler), with the test's clock."""
    metrics = ctx.service(Metrics)
    assert metrics is not None
    return make_scheduler(ctx, metrics, clock=clock)


async def run_due(scheduler: Scheduler) -> list[str]:
    """Start what is due, wait for it; the names of the jobs that ran."""
    tasks = await scheduler.run_due()
    await asyncio.gather(*tasks)
    return sorted(task.get_name().removeprefix("scheduler-") for task in tasks)


async def queue_rows(ctx: AppContext) -> list[tuple[int, str]]:
    """(episode number, status) of every queue row."""
    async with ctx.db.session() as s:
        rows = await s.execute(
            select(Episode.episode, QueueItem.status)
            .join(Episode, Episode.id == QueueItem.episode_id)
            .order_by(QueueItem.id)
        )
        return [(number, status) for number, status in rows]


def media_file(library: Path, folder: str, episode: int) -> Path:
    return library / folder / "Season 01" / f"{folder} S01E{episode:02d}.mp4"


async def test_a_due_rescan_queues_what_went_missing_and_the_cooldown_holds(
    server_ctx: AppContext, library_dir: Path
) -> None:
    ctx = server_ctx
    assert ctx.service(WorkerPool) is None and ctx.service(Scheduler) is None
    async with MediaServer() as feeds:
        feed = podcast_rss([podcast_item(n, number=n, alternates=False) for n in (1, 2)])
        url = feeds.add("/show.xml", Resource(feed, content_type="application/rss+xml"))
        series = await add_series(ctx, url)
        key, folder = series.key, series.folder
        loader = ctx.service(MetadataLoader)
        assert loader is not None
        await loader.wait_idle()  # the server loads the new series' metadata after the add

        # Both episodes were downloaded and scanned in; then the user deletes episode 2's file.
        for n in (1, 2):
            path = media_file(library_dir, folder, n)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\0" * 1024)
        await run_scan(ctx)
        assert set(await on_disk(ctx.db)) == {(key, 1, 1), (key, 1, 2)}
        media_file(library_dir, folder, 2).unlink()

        clock = FakeClock(MON_0200)
        scheduler = build_scheduler(ctx, clock)
        assert scheduler.jobs == Jobs()  # the real entry points, as the server runs them
        await scheduler.load()
        assert scheduler.states["rescan"].next_run == MON_0300

        # 02:00, start-up: the first source refresh and the auto-download after it. Nothing is
        # missing as far as the database knows: no rescan has looked at the disk yet.
        feed_gets = len(feeds.requests_for("/show.xml", "GET"))
        assert await run_due(scheduler) == ["refresh"]
        assert len(feeds.requests_for("/show.xml", "GET")) == feed_gets + 1
        assert await run_due(scheduler) == ["auto_download"]
        assert await queue_rows(ctx) == []
        assert scheduler.states["rescan"].last_run is None

        # 03:00: the daily rescan is due, finds episode 2 gone, and auto-download queues it.
        clock.advance(hours=1)
        assert await run_due(scheduler) == ["rescan"]
        assert scheduler.states["rescan"].last_status == "ok"
        assert set(await on_disk(ctx.db)) == {(key, 1, 1)}
        assert scheduler.states["auto_download"].next_run == MON_0300
        assert await run_due(scheduler) == ["auto_download"]
        assert scheduler.states["auto_download"].last_status == "ok"
        assert await queue_rows(ctx) == [(2, "queued")]

        # 03:02: episode 1's file goes too and a second rescan finds it, inside the cooldown:
        # auto-download does not run, nothing more is queued.
        clock.advance(minutes=2)
        media_file(library_dir, folder, 1).unlink()
        await scheduler.trigger("rescan")
        assert scheduler.states["rescan"].last_run == MON_0300 + timedelta(minutes=2)
        assert await on_disk(ctx.db) == {}
        assert scheduler.states["auto_download"].next_run == MON_0300 + timedelta(minutes=5)
        assert await run_due(scheduler) == []
        assert scheduler.states["auto_download"].last_run == MON_0300
        assert await queue_rows(ctx) == [(2, "queued")]

        # 03:05: the cooldown is over; the deferred auto-download queues episode 1 only.
        clock.advance(minutes=3)
        assert await run_due(scheduler) == ["auto_download"]
        assert await queue_rows(ctx) == [(2, "queued"), (1, "queued")]
        assert await run_due(scheduler) == []
