"""`showkeeper worker` as a real process: kill -9 mid-download, and a clean SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest
from sqlalchemy import func, select

from showkeeper.db.models import DownloadHistory, Episode, QueueItem
from showkeeper.downloads import foreground, service
from tests.integration.downloads.queue_support import TimedServer, add_series, wait_until
from tests.integration.downloads.servers import media_bytes

KiB = 1024
pytestmark = pytest.mark.slow


@pytest.fixture
def settings(settings):
    return settings.model_copy(
        update={"download_workers_in_server": False, "download_connections": 1}
    )


def worker_env(settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWKEEPER_")}
    env.update(
        SHOWKEEPER_DATA_DIR=str(settings.data_dir),
        SHOWKEEPER_LIBRARY_DIR=str(settings.library_dir),
        SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS="127.0.0.0/8",
        SHOWKEEPER_DOWNLOAD_LEASE_S="2",
        SHOWKEEPER_DOWNLOAD_CONNECTIONS="1",
        SHOWKEEPER_SCHEDULER_ENABLED="false",
        SHOWKEEPER_LOG_LEVEL="WARNING",
    )
    return env


async def start_worker(settings) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "showkeeper",
        "worker",
        env=worker_env(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def the_item(ctx) -> QueueItem:
    async with ctx.db.session() as s:
        return (await s.execute(select(QueueItem))).scalar_one()


async def downloading_in(ctx, server, path, proc) -> bool:
    if proc.returncode is not None:
        raise AssertionError(f"the worker exited: {(await proc.stderr.read()).decode()}")
    item = await the_item(ctx)
    started = sum(h.sent for h in server.hits_for(path)) >= 100 * KiB
    return started and item.status == "downloading" and f":{proc.pid}:" in item.lease_owner


async def test_kill_9_mid_download_then_another_worker_finishes_it_once(ctx, library_dir):
    body = media_bytes(1500 * KiB)
    async with TimedServer(rate=150 * KiB) as server:
        ids = await add_series(ctx.db, "crash", [(1, 1, [{"url": server.add("/c.mp4", body)}])])
        [item_id] = (await service.enqueue_episodes(ctx, ids)).item_ids
        proc = await start_worker(ctx.settings)
        try:
            await wait_until(lambda: downloading_in(ctx, server, "/c.mp4", proc), timeout=30)
        finally:
            proc.kill()  # SIGKILL: no cleanup, the lease stays behind
            await proc.wait()
        stuck = await the_item(ctx)
        assert stuck.status == "downloading" and f":{proc.pid}:" in stuck.lease_owner
        server.rate = None
        final = await foreground.run_until_finished(ctx, [item_id], poll_interval_s=0.2)

    assert final == {item_id: "completed"}
    [path] = library_dir.rglob("*.mp4")
    assert path.read_bytes() == body
    async with ctx.db.session() as s:
        episode = await s.get(Episode, ids[0])
        completed = await s.scalar(
            select(func.count()).where(DownloadHistory.status == "completed")
        )
        downloading = await s.scalar(select(func.count()).where(QueueItem.status == "downloading"))
    assert episode.is_downloaded and episode.size == len(body)
    assert completed == 1 and downloading == 0
    gets = [h for h in server.hits_for("/c.mp4") if h.method == "GET"]
    assert gets[-1].range and not gets[-1].range.startswith("bytes=0-")  # resumed the .part
    assert sum(h.sent for h in gets) < 1.5 * len(body)  # not downloaded twice


async def test_sigterm_releases_the_lease_and_exits_cleanly(ctx, library_dir):
    async with TimedServer(rate=100 * KiB) as server:
        url = server.add("/t.mp4", media_bytes(2000 * KiB))
        ids = await add_series(ctx.db, "term", [(1, 1, [{"url": url}])])
        await service.enqueue_episodes(ctx, ids)
        proc = await start_worker(ctx.settings)
        try:
            await wait_until(lambda: downloading_in(ctx, server, "/t.mp4", proc), timeout=30)
            proc.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(proc.communicate(), timeout=20)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert proc.returncode == 0, stderr.decode()
    assert b"Traceback" not in stderr
    item = await the_item(ctx)
    assert (item.status, item.lease_owner, item.lease_expires_at) == ("queued", None, None)
    assert list(library_dir.rglob("*.part"))  # kept for the next worker to resume
