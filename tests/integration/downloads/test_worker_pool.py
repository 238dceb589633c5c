"""The worker pool with the real transfer engine against real local HTTP servers."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from showkeeper.db.models import DownloadHistory, Episode, QueueItem
from showkeeper.downloads import claim, finish, foreground, queue, service
from showkeeper.downloads.worker import WorkerPool
from tests.integration.downloads.queue_support import TimedServer, add_series, wait_until
from tests.integration.downloads.servers import media_bytes

KiB = 1024


@pytest.fixture
def settings(settings):
    return settings.model_copy(
        update={
            "download_workers_in_server": False,
            "download_connections": 1,
            "download_retry_base_s": 0.05,
            "download_retry_max_s": 0.2,
            "download_max_attempts": 2,
        }
    )


@pytest.fixture
async def server():
    async with TimedServer() as srv:
        yield srv


async def item_rows(ctx):
    async with ctx.db.session() as s:
        return (await s.execute(select(QueueItem).order_by(QueueItem.id))).scalars().all()


async def test_downloads_land_in_the_library_and_are_recorded(ctx, server, library_dir):
    one = media_bytes(300 * KiB)
    two = media_bytes(200 * KiB)
    episodes = await add_series(
        ctx.db,
        "my-show",
        [
            (1, 1, [{"url": server.add("/e1.mp4", one)}]),
            (1, 2, [{"url": server.add("/e2", two), "mime": "video/x-matroska"}]),
        ],
        name="My Show",
        year=2020,
    )
    events = ctx.bus.subscribe()
    result = await service.enqueue_episodes(ctx, [*episodes, episodes[0]])
    assert len(result.item_ids) == 2  # the same episode twice in one call is one item
    final = await foreground.run_until_finished(ctx, result.item_ids)
    assert set(final.values()) == {"completed"}

    first = library_dir / "My Show (2020)" / "Season 01" / "My Show - S01E01 - Episode 1.mp4"
    assert first.read_bytes() == one
    second = next((library_dir / "My Show (2020)" / "Season 01").glob("*S01E02*"))
    assert second.read_bytes() == two
    assert not [p for p in library_dir.rglob("*") if ".part" in p.name or "hls" in p.name]
    async with ctx.db.session() as s:
        rows = (await s.execute(select(Episode).order_by(Episode.id))).scalars().all()
        history = (await s.execute(select(DownloadHistory))).scalars().all()
    assert [r.is_downloaded for r in rows] == [True, True]
    assert rows[0].file_path == "My Show (2020)/Season 01/My Show - S01E01 - Episode 1.mp4"
    assert rows[0].size == len(one)
    assert sorted((h.status, h.series_key, h.episode, h.attempts) for h in history) == [
        ("completed", "my-show", 1, 1),
        ("completed", "my-show", 2, 1),
    ]
    assert {h.candidate_url for h in history} == {
        server.add("/e1.mp4", one),
        server.add("/e2", two),
    }
    seen = []
    while (event := events.get_nowait()) is not None:
        seen.append(event)
    complete = [e.data for e in seen if e.type == "download_complete"]
    assert {(d["series_key"], d["episode"], d["size"]) for d in complete} == {
        ("my-show", 1, len(one)),
        ("my-show", 2, len(two)),
    }
    statuses = [e.data["action"] for e in seen if e.type == "queue_status"]
    assert statuses.count("started") == 2 and statuses.count("completed") == 2


async def test_failures_back_off_then_fail_with_the_error_line(ctx, server):
    episodes = await add_series(
        ctx.db, "gone", [(1, 1, [{"url": server.add("/x", b"")[:-2] + "/missing.mp4"}])]
    )
    events = ctx.bus.subscribe(types={"download_failed", "queue_status"})
    result = await service.enqueue_episodes(ctx, episodes)
    final = await foreground.run_until_finished(ctx, result.item_ids)
    assert list(final.values()) == ["failed"]
    [item] = await item_rows(ctx)
    assert item.attempts == 2  # download_max_attempts
    assert item.last_error.startswith("All candidates failed for gone S01E01")
    assert "\n" not in item.last_error
    seen = []
    while (event := events.get_nowait()) is not None:
        seen.append(event)
    retry = [e.data for e in seen if e.data.get("action") == "retry_scheduled"]
    assert len(retry) == 1 and retry[0]["attempts"] == 1
    [failed] = [e.data for e in seen if e.type == "download_failed"]
    assert failed["error"] == item.last_error and failed["attempts"] == 2
    async with ctx.db.session() as s:
        statuses = (await s.execute(select(DownloadHistory.status))).scalars().all()
    assert statuses == ["failed"]


async def test_an_item_without_candidates_fails_at_once(ctx):
    episodes = await add_series(ctx.db, "empty", [(1, 1, [])])
    result = await service.enqueue_episodes(ctx, episodes)
    final = await foreground.run_until_finished(ctx, result.item_ids)
    assert list(final.values()) == ["failed"]
    [item] = await item_rows(ctx)
    assert item.attempts == 1
    assert item.last_error == "empty S01E01 has no download candidates; refresh its source"


async def test_a_cancel_during_the_transfer_wins(ctx, server, library_dir):
    server.rate = 200 * KiB
    url = server.add("/slow.mp4", media_bytes(2000 * KiB))
    episodes = await add_series(ctx.db, "slow", [(1, 1, [{"url": url}])])
    result = await service.enqueue_episodes(ctx, episodes)
    pool = WorkerPool(ctx, poll_interval_s=0.1)
    await pool.start()
    try:
        await wait_until(lambda: _sent_some(server, "/slow.mp4"))
        assert await service.remove_item(ctx, result.item_ids[0]) == "cancelled"
        await wait_until(lambda: _idle(pool))
    finally:
        await pool.stop()
    [item] = await item_rows(ctx)
    assert item.status == "cancelled"
    async with ctx.db.session() as s:
        episode = await s.get(Episode, episodes[0])
        history = (await s.execute(select(DownloadHistory.status))).scalars().all()
    assert not episode.is_downloaded
    assert history == ["cancelled"]
    assert [p for p in library_dir.rglob("*") if p.is_file()] == []  # .part removed too


async def test_pause_stop_and_start(ctx, server, library_dir):
    server.rate = 400 * KiB
    body = media_bytes(1200 * KiB)
    episodes = await add_series(ctx.db, "p", [(1, 1, [{"url": server.add("/p.mp4", body)}])])
    await service.apply(ctx, "pause")
    result = await service.enqueue_episodes(ctx, episodes)
    pool = WorkerPool(ctx, poll_interval_s=0.1)
    await pool.start()
    try:
        await asyncio.sleep(0.4)
        assert [i.status for i in await item_rows(ctx)] == ["queued"]  # paused: not started
        await service.apply(ctx, "resume")
        await wait_until(lambda: _sent_some(server, "/p.mp4"))
        await service.apply(ctx, "stop")  # interrupts: back to queued, .part kept
        await wait_until(lambda: _idle(pool))
        [item] = await item_rows(ctx)
        assert (item.status, item.lease_owner, item.attempts) == ("queued", None, 0)
        assert list(library_dir.rglob("*.part"))
        server.rate = None
        await service.apply(ctx, "start")
        await wait_until(lambda: _status(ctx, result.item_ids[0], "completed"))
    finally:
        await pool.stop()
    [path] = [p for p in library_dir.rglob("*.mp4")]
    assert path.read_bytes() == body
    ranges = [h.range for h in server.hits_for("/p.mp4") if h.method == "GET"]
    assert any(r and not r.startswith("bytes=0-") for r in ranges), ranges  # resumed


async def test_shutdown_gives_items_back(ctx, server):
    server.rate = 100 * KiB
    episodes = await add_series(
        ctx.db, "s", [(1, 1, [{"url": server.add("/s.mp4", media_bytes(1000 * KiB))}])]
    )
    await service.enqueue_episodes(ctx, episodes)
    pool = WorkerPool(ctx, poll_interval_s=0.1)
    await pool.start()
    await wait_until(lambda: _sent_some(server, "/s.mp4"))
    await pool.stop()
    [item] = await item_rows(ctx)
    assert (item.status, item.lease_owner, item.lease_expires_at) == ("queued", None, None)
    async with ctx.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(DownloadHistory)) == 0


async def _sent_some(server, path) -> bool:
    return any(h.sent > 0 for h in server.hits_for(path))


async def _idle(pool) -> bool:
    return not pool.jobs


async def _status(ctx, item_id, status) -> bool:
    async with ctx.db.session() as s:
        return await s.scalar(select(QueueItem.status).where(QueueItem.id == item_id)) == status


async def test_heartbeat_stores_progress_and_renews_the_lease(ctx, server, settings):
    ctx.settings = settings.model_copy(update={"download_lease_s": 1.0})
    server.rate = 200 * KiB
    episodes = await add_series(
        ctx.db, "hb", [(1, 1, [{"url": server.add("/hb.mp4", media_bytes(500 * KiB))}])]
    )
    result = await service.enqueue_episodes(ctx, episodes)
    pool = WorkerPool(ctx, poll_interval_s=0.1)
    await pool.start()
    try:
        await wait_until(lambda: _progress_stored(ctx))
        [item] = await item_rows(ctx)
        assert item.status == "downloading" and item.lease_owner == pool.owner
        await wait_until(lambda: _status(ctx, result.item_ids[0], "completed"), timeout=30)
    finally:
        await pool.stop()
    # the transfer outlived two leases of 1 s without being reclaimed
    assert len([h for h in server.hits_for("/hb.mp4") if h.method == "GET"]) == 1


async def _progress_stored(ctx) -> bool:
    rows = await item_rows(ctx)
    return bool(rows) and rows[0].downloaded_bytes > 0 and rows[0].status == "downloading"


async def test_finish_is_refused_after_a_cancel(ctx):
    """The finishing UPDATE is conditional: a cancelled item never turns completed or failed."""
    episodes = await add_series(ctx.db, "race", [(1, 1, []), (1, 2, [])])
    await queue.enqueue(ctx.db, episodes)
    claims = await claim.claim_batch(ctx.db, owner="me", limit=2)
    for claimed in claims:
        await finish.cancel(ctx.db, claimed.id)
    assert not await finish.complete(ctx.db, claims[0].id, owner="me", file_path="x", size=1)
    assert (await finish.fail(ctx.db, claims[1].id, owner="me", error="e")).outcome == "lost"
    assert [i.status for i in await item_rows(ctx)] == ["cancelled", "cancelled"]


async def test_a_paused_pool_still_requeues_a_crashed_workers_items(ctx):
    episodes = await add_series(ctx.db, "crashed", [(1, 1, [])])
    [item_id] = (await queue.enqueue(ctx.db, episodes)).item_ids
    [claimed] = await claim.claim_batch(ctx.db, owner="dead-worker", limit=1, lease_s=0.2)
    await service.apply(ctx, "pause")
    pool = WorkerPool(ctx, poll_interval_s=0.1)
    await pool.start()
    try:
        await wait_until(lambda: _status(ctx, item_id, "queued"))
    finally:
        await pool.stop()
    [item] = await item_rows(ctx)
    assert (item.id, item.lease_owner, item.attempts) == (claimed.id, None, 0)
