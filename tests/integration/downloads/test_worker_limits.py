"""Worker limits: per-host concurrency and delay from server-side request times, and a full
disk that fails one item while the queue keeps going."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from showkeeper.db.models import DownloadHistory, Episode, QueueItem
from showkeeper.downloads import foreground, service
from tests.integration.downloads.queue_support import TimedServer, add_series
from tests.integration.downloads.servers import media_bytes
from tests.integration.downloads.tmpfs import tmpfs

KiB = 1024
MiB = 1024 * KiB


@pytest.fixture
def settings(settings):
    return settings.model_copy(
        update={
            "download_workers_in_server": False,
            "download_connections": 1,
            "download_concurrency": 4,
            "download_per_host_concurrency": 1,
            "download_per_host_delay_s": 0.3,
        }
    )


async def test_per_host_limit_and_delay_are_honoured_and_hosts_run_in_parallel(ctx):
    body = media_bytes(64 * KiB)  # at 160 KiB/s: about 0.4 s per download
    async with (
        TimedServer(host="127.0.0.1", rate=160 * KiB) as one,
        TimedServer(host="127.0.0.2", rate=160 * KiB) as two,
    ):
        episodes = [
            (1, n, [{"url": (one if n <= 3 else two).add(f"/e{n}.mp4", body)}]) for n in range(1, 7)
        ]
        ids = await add_series(ctx.db, "two-hosts", episodes)
        result = await service.enqueue_episodes(ctx, ids)
        final = await foreground.run_until_finished(ctx, result.item_ids)
    assert set(final.values()) == {"completed"}

    async with ctx.db.session() as s:
        rows = await s.execute(
            select(Episode.episode, QueueItem.finished_at).join(
                QueueItem, QueueItem.episode_id == Episode.id
            )
        )
        finished = {n: at.timestamp() for n, at in rows}
    spans = {}
    for server in (one, two):
        mine = [n for n in range(1, 7) if server.hits_for(f"/e{n}.mp4")]
        runs = sorted((*server.span(f"/e{n}.mp4"), finished[n]) for n in mine)
        assert len(runs) == 3
        for (start, end, done), (next_start, _, _) in itertools.pairwise(runs):
            assert next_start >= end, "two downloads from one host overlapped"
            assert next_start - start >= 0.3, "the per-host delay was not kept"
            # the delay also runs from the previous download's finish (recorded by the worker)
            assert next_start - done >= 0.3, "the per-host delay after a finish was not kept"
        spans[server.host] = [(start, end) for start, end, _ in runs]
    overlapping = [
        (a, b)
        for a in spans["127.0.0.1"]
        for b in spans["127.0.0.2"]
        if a[0] < b[1] and b[0] < a[1]
    ]
    assert overlapping, "the two hosts did not download in parallel"


async def test_a_hosts_next_download_starts_once_the_bytes_are_in(ctx) -> None:
    """Without a delay, a host's slot frees when every byte of its download is on disk (the
    fsync, media check and bookkeeping need no connection): the next GET may start before
    the previous item is recorded complete, yet transfers from the host never overlap."""
    ctx.settings = ctx.settings.model_copy(update={"download_per_host_delay_s": 0.0})
    body = media_bytes(64 * KiB)
    async with TimedServer(host="127.0.0.1", rate=320 * KiB) as one:
        episodes = [(1, n, [{"url": one.add(f"/e{n}.mp4", body)}]) for n in range(1, 6)]
        ids = await add_series(ctx.db, "one-host", episodes)
        result = await service.enqueue_episodes(ctx, ids)
        with ctx.bus.subscribe(types={"download_received", "download_complete"}) as events:
            final = await foreground.run_until_finished(ctx, result.item_ids)
            seen = []
            while (event := events.get_nowait()) is not None:
                seen.append((event.type, event.data["item_id"]))
    assert set(final.values()) == {"completed"}
    for item_id in result.item_ids:  # each said its bytes were in before it was filed
        assert seen.index(("download_received", item_id)) < seen.index(
            ("download_complete", item_id)
        )
    runs = sorted(one.span(f"/e{n}.mp4") for n in range(1, 6))
    for (_, end), (next_start, _) in itertools.pairwise(runs):
        assert next_start >= end, "two downloads from one host overlapped"


@pytest.fixture
def small_library(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MiB tmpfs as the library (root can mount; CI runs as root)."""
    with tmpfs(tmp_path / "small-library", "2m") as mount_point:
        yield mount_point


async def test_a_full_disk_fails_that_item_and_the_next_one_downloads(ctx, small_library):
    # no reserve: the disk space guard (test_disk_guard.py) would hold the queue before the
    # transfer could meet the full disk this test is about
    ctx.settings = ctx.settings.model_copy(
        update={
            "library_dir": small_library,
            "download_per_host_delay_s": 0.0,
            "disk_reserve_gib": 0,
        }
    )
    small = media_bytes(100 * KiB)
    async with TimedServer() as server:
        ids = await add_series(
            ctx.db,
            "big-and-small",
            [
                (1, 1, [{"url": server.add("/big.mp4", media_bytes(3 * MiB))}]),
                (1, 2, [{"url": server.add("/small.mp4", small)}]),
            ],
        )
        events = ctx.bus.subscribe(types={"download_failed", "download_complete"})
        result = await service.enqueue_episodes(ctx, ids)
        final = await foreground.run_until_finished(ctx, result.item_ids, concurrency=1)
    assert final == {result.item_ids[0]: "failed", result.item_ids[1]: "completed"}
    async with ctx.db.session() as s:
        items = (await s.execute(select(QueueItem).order_by(QueueItem.id))).scalars().all()
        episodes = (await s.execute(select(Episode).order_by(Episode.id))).scalars().all()
        history = (await s.execute(select(DownloadHistory.status))).scalars().all()
    error = items[0].last_error
    assert error.startswith(f"no space left on {small_library} (tmpfs)"), error
    assert items[0].attempts == 1  # a full disk is not retried
    assert [e.is_downloaded for e in episodes] == [False, True]
    assert (small_library / episodes[1].file_path).read_bytes() == small
    assert sorted(history) == ["completed", "failed"]
    failed = events.get_nowait()
    assert failed is not None and failed.type == "download_failed"
    assert failed.data["error"] == error and failed.data["episode"] == 1
    completed = events.get_nowait()
    assert completed is not None and completed.type == "download_complete"
    leftovers = [p.name for p in small_library.rglob("*") if p.is_file()]
    assert leftovers == [Path(episodes[1].file_path).name]
