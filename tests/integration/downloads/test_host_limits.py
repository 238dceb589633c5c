"""Item 14: a source host's own concurrency and delay, set through the API, honoured by
every worker process (two `showkeeper worker` processes on PostgreSQL)."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys

import httpx
import pytest
from sqlalchemy import select

from showkeeper.context import open_context
from showkeeper.db.models import QueueItem
from showkeeper.downloads import host_limits, service
from tests.integration.downloads.queue_support import Hit, TimedServer, add_series, wait_until
from tests.integration.downloads.servers import media_bytes
from tests.pg import fresh_pg_database

KiB = 1024


def most_at_once(hits: list[Hit]) -> int:
    edges = sorted([(h.start, 1) for h in hits] + [(h.end, -1) for h in hits])
    now = peak = 0
    for _, step in edges:
        now += step
        peak = max(peak, now)
    return peak


async def test_the_api_sets_lists_and_removes_host_limits(api: httpx.AsyncClient) -> None:
    put = await api.put(
        "/api/download-hosts/Media.Example", json={"concurrency": 2, "delay_s": 1.5}
    )
    assert put.status_code == 200, put.text
    assert put.json() == {
        "host": "media.example",
        "concurrency": 2,
        "delay_s": 1.5,
        "limited_to": None,  # set while the host is limited after a 429/503
        "paused_until": None,
        "normal_at": None,
    }
    assert (await api.get("/api/download-hosts")).json() == [put.json()]
    for bad in ({"concurrency": 0}, {"concurrency": 33}, {"delay_s": -1}, {"concurrency": True}):
        assert (await api.put("/api/download-hosts/a.example", json=bad)).status_code == 422
    assert (await api.put("/api/download-hosts/a b", json={})).status_code == 400
    assert (await api.delete("/api/download-hosts/media.example")).status_code == 200
    assert (await api.delete("/api/download-hosts/media.example")).status_code == 404
    assert (await api.get("/api/download-hosts")).json() == []


@pytest.mark.postgres
@pytest.mark.slow
async def test_per_host_limits_hold_across_worker_processes(settings) -> None:  # type: ignore[no-untyped-def]
    async with fresh_pg_database() as db_url:
        pg = settings.model_copy(update={"database_url": db_url})
        async with (
            open_context(pg) as ctx,
            TimedServer(rate=400 * KiB) as limited,
            TimedServer(host="127.0.0.2", rate=400 * KiB) as free,
        ):
            await host_limits.set_limit(ctx.db, "127.0.0.1", concurrency=1, delay_s=0.5)
            episodes = [
                (1, n, [{"url": limited.add(f"/a{n}.mp4", media_bytes(200 * KiB))}])
                for n in range(1, 5)
            ]
            episodes += [
                (2, n, [{"url": free.add(f"/b{n}.mp4", media_bytes(200 * KiB))}])
                for n in range(1, 5)
            ]
            ids = await add_series(ctx.db, "hosts", episodes)
            await service.enqueue_episodes(ctx, ids)
            env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWKEEPER_")}
            env.update(
                SHOWKEEPER_DATA_DIR=str(pg.data_dir),
                SHOWKEEPER_LIBRARY_DIR=str(pg.library_dir),
                SHOWKEEPER_DATABASE_URL=db_url,
                SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS="127.0.0.0/8",
                SHOWKEEPER_DOWNLOAD_CONCURRENCY="3",
                SHOWKEEPER_DOWNLOAD_PER_HOST_CONCURRENCY="3",
                SHOWKEEPER_DOWNLOAD_CONNECTIONS="1",
                SHOWKEEPER_SCHEDULER_ENABLED="false",
                SHOWKEEPER_LOG_LEVEL="WARNING",
            )
            workers = [
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "showkeeper",
                    "worker",
                    env=env,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.DEVNULL,
                )
                for _ in range(2)
            ]
            try:

                async def done() -> bool:
                    async with ctx.db.session() as s:
                        states = (await s.execute(select(QueueItem.status))).scalars().all()
                    return set(states) == {"completed"}

                await wait_until(done, timeout=90)
            finally:
                for proc in workers:
                    proc.terminate()
                    await proc.wait()
    a_gets = sorted((h for h in limited.hits if h.method == "GET"), key=lambda h: h.start)
    b_gets = [h for h in free.hits if h.method == "GET"]
    assert len(a_gets) == 4 and most_at_once(a_gets) == 1  # the host's own limit, not 3
    gaps = [later.start - earlier.end for earlier, later in itertools.pairwise(a_gets)]
    assert min(gaps) >= 0.4, gaps  # its own delay (0.5 s) between downloads
    assert most_at_once(b_gets) >= 2  # the other host keeps the global limit


def test_the_cli_sets_lists_and_removes_host_limits(data_dir) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from showkeeper.cli import app

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(app, ["--data-dir", str(data_dir), "queue", "host", *args])

    set_ = run("cdn.example", "--concurrency", "2", "--delay", "5")
    assert set_.exit_code == 0, set_.output
    assert "cdn.example: concurrency=2 delay_s=5.0" in set_.output
    assert "cdn.example" in run().output
    assert run("cdn.example", "--concurrency", "0").exit_code != 0
    assert run("cdn.example", "--rm").exit_code == 0
    assert run("cdn.example", "--rm").exit_code == 2  # nothing left to remove: not found
    assert "cdn.example" not in run().output
