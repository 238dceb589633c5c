"""Item 12: on PostgreSQL a worker killed with kill -9 gives its items (and their per-host
slots) back within seconds, not when its 60 s lease expires."""

from __future__ import annotations

import asyncio
import os
import sys
import time

import pytest
from sqlalchemy import select

from showkeeper.context import open_context
from showkeeper.db.models import QueueItem
from showkeeper.downloads import service
from tests.integration.downloads.queue_support import TimedServer, add_series, wait_until
from tests.integration.downloads.servers import media_bytes
from tests.pg import fresh_pg_database

KiB = 1024
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def worker_env(settings, db_url: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWKEEPER_")}
    env.update(
        SHOWKEEPER_DATA_DIR=str(settings.data_dir),
        SHOWKEEPER_LIBRARY_DIR=str(settings.library_dir),
        SHOWKEEPER_DATABASE_URL=db_url,
        SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS="127.0.0.0/8",
        SHOWKEEPER_DOWNLOAD_CONCURRENCY="2",
        SHOWKEEPER_DOWNLOAD_PER_HOST_CONCURRENCY="2",
        SHOWKEEPER_DOWNLOAD_LEASE_S="60",
        SHOWKEEPER_DOWNLOAD_CONNECTIONS="1",
        SHOWKEEPER_SCHEDULER_ENABLED="false",
        SHOWKEEPER_LOG_LEVEL="WARNING",
    )
    return env


async def start_worker(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "showkeeper",
        "worker",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def held_by(ctx, pid: int) -> list[int]:  # type: ignore[no-untyped-def]
    async with ctx.db.session() as s:
        rows = await s.execute(
            select(QueueItem.id, QueueItem.lease_owner).where(QueueItem.status == "downloading")
        )
        return [item for item, owner in rows if owner and f":{pid}:" in owner]


async def test_a_killed_workers_items_are_requeued_within_seconds(settings) -> None:  # type: ignore[no-untyped-def]
    async with fresh_pg_database() as db_url:
        pg = settings.model_copy(update={"database_url": db_url})
        async with open_context(pg) as ctx, TimedServer(rate=100 * KiB) as server:
            bodies = {n: media_bytes(2000 * KiB) for n in range(1, 5)}
            ids = await add_series(
                ctx.db,
                "dead",
                [(1, n, [{"url": server.add(f"/e{n}.mp4", b)}]) for n, b in bodies.items()],
            )
            items = (await service.enqueue_episodes(ctx, ids)).item_ids
            env = worker_env(pg, db_url)
            first = await start_worker(env)
            try:
                await wait_until(lambda: _two(ctx, first.pid), timeout=60)
            finally:
                first.kill()  # SIGKILL: its leases (60 s) stay behind
                await first.wait()
            killed_at = time.monotonic()
            orphans = await held_by(ctx, first.pid)
            assert len(orphans) == 2
            second = await start_worker(env)
            try:

                async def taken_over() -> bool:
                    return (
                        not await held_by(ctx, first.pid)
                        and len(await held_by(ctx, second.pid)) == 2
                    )

                await wait_until(taken_over, timeout=45)
                # well inside the 60 s lease: the dead worker was seen dead, not timed out
                assert time.monotonic() - killed_at < 20
                server.rate = None

                async def all_done() -> bool:
                    async with ctx.db.session() as s:
                        states = (await s.execute(select(QueueItem.status))).scalars().all()
                    return set(states) == {"completed"}

                await wait_until(all_done, timeout=60)
            finally:
                second.terminate()
                await second.wait()
            files = sorted(pg.library_dir.rglob("*.mp4"))  # type: ignore[union-attr]
            assert sorted(p.read_bytes() for p in files) == sorted(bodies.values())
            assert len(items) == 4


async def _two(ctx, pid: int) -> bool:  # type: ignore[no-untyped-def]
    return len(await held_by(ctx, pid)) == 2
