"""Adaptive politeness with a real worker pool and a real media server on 127.0.0.1: a host
answering 429 with Retry-After: 2 gets no request for 2 s, a lowered limit, and the limit
grows back; the refused download completes in the end."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from showkeeper.context import open_context
from showkeeper.db.models import QueueItem
from showkeeper.domain.candidates import Candidate
from showkeeper.downloads import host_limits, politeness, service
from showkeeper.downloads.engine import download
from showkeeper.downloads.transfer import AllCandidatesFailed
from showkeeper.downloads.worker import WorkerPool
from showkeeper.net import HttpClient
from tests.integration.downloads.queue_support import TimedServer, add_series, wait_until
from tests.integration.downloads.servers import media_bytes

KiB = 1024
RECOVERY_S = 0.5


@pytest.fixture
def settings(settings):
    return settings.model_copy(
        update={
            "download_workers_in_server": False,
            "download_connections": 1,
            "download_concurrency": 8,
            "download_per_host_concurrency": 4,
            "download_retry_base_s": 0.05,  # the item's own backoff: shorter than Retry-After
            "download_host_recovery_s": RECOVERY_S,
        }
    )


async def statuses(ctx) -> list[str]:
    async with ctx.db.session() as s:
        return list((await s.execute(select(QueueItem.status).order_by(QueueItem.id))).scalars())


async def limits(ctx, **kw) -> dict[str, host_limits.HostLimitView]:
    return {v.host: v for v in await host_limits.list_for(ctx, **kw)}


async def test_a_429_pauses_the_host_lowers_its_limit_and_the_limit_recovers(ctx) -> None:
    first, second = media_bytes(120 * KiB), media_bytes(80 * KiB)
    async with TimedServer() as server:
        server.refusals["/e1.mp4"] = [(429, "2")]
        url_one = server.add("/e1.mp4", first)
        url_two = server.add("/e2.mp4", second)
        one, two = await add_series(
            ctx.db, "busy", [(1, 1, [{"url": url_one}]), (1, 2, [{"url": url_two}])]
        )
        await service.enqueue_episodes(ctx, [one])
        pool = WorkerPool(ctx, poll_interval_s=0.05)
        await pool.start()
        try:
            await wait_until(lambda: _refused(server))
            [refused] = [h for h in server.hits if h.method == "GET" and h.path == "/e1.mp4"]
            # Lowered from 4 to 2, and paused: another episode of the host waits too.
            await wait_until(lambda: _limited(ctx))
            view = (await limits(ctx))["127.0.0.1"]
            assert view.limited_to == 2
            assert view.paused_until is not None
            assert view.paused_until.timestamp() >= refused.end + 2
            assert "limited to 2" in view.state()
            await service.enqueue_episodes(ctx, [two])
            pool.wake()
            await wait_until(lambda: _all_completed(ctx), timeout=30)
        finally:
            await pool.stop()

        later = [h for h in server.hits if h.start > refused.start]
        assert later, "nothing was asked after the 429"
        gap = min(h.start for h in later) - refused.end
        assert gap >= 2.0, f"a request reached the host {gap:.2f} s after its 429"
        assert sum(h.sent for h in server.hits_for("/e2.mp4")) == len(second)

        # The limit grows back by one per RECOVERY_S after the pause, then the host is normal.
        until = view.paused_until
        grown = await limits(ctx, now=until + timedelta(seconds=RECOVERY_S * 1.5))
        assert grown["127.0.0.1"].limited_to == 3
        await wait_until(lambda: _normal(ctx), timeout=10)
    files = sorted(p.name for p in ctx.settings.library_dir.rglob("*.mp4"))
    assert len(files) == 2
    assert {p.read_bytes() for p in ctx.settings.library_dir.rglob("*.mp4")} == {first, second}


async def _refused(server: TimedServer) -> bool:
    return not server.refusals["/e1.mp4"] and any(h.end for h in server.hits)


async def _limited(ctx) -> bool:
    return "127.0.0.1" in await limits(ctx)


async def _all_completed(ctx) -> bool:
    return await statuses(ctx) == ["completed", "completed"]


async def _normal(ctx) -> bool:
    return "127.0.0.1" not in await limits(ctx)


async def test_the_api_lists_a_limited_host_with_its_state(app, api) -> None:
    ctx = app.state.ctx
    now = datetime.now(UTC)
    trouble = politeness.HostTrouble("cdn.example", "throttled", 503, 60.0)
    await politeness.record_troubles(ctx.db, [trouble], per_host_limit=4, recovery_s=30, now=now)
    [listed] = (await api.get("/api/download-hosts")).json()
    assert listed["host"] == "cdn.example"
    assert (listed["concurrency"], listed["delay_s"], listed["limited_to"]) == (None, None, 2)
    paused_until = datetime.fromisoformat(listed["paused_until"])
    assert paused_until == now + timedelta(seconds=60)
    # two recovery steps (4 - 2) after the pause
    normal_at = paused_until + timedelta(seconds=2 * RECOVERY_S)
    assert datetime.fromisoformat(listed["normal_at"]) == normal_at


def test_the_cli_lists_a_limited_host_with_its_state(settings) -> None:
    from typer.testing import CliRunner

    from showkeeper.cli import app

    async def limit() -> None:
        async with open_context(settings) as ctx:
            trouble = politeness.HostTrouble("cdn.example", "throttled", 429, 120.0)
            await politeness.record_troubles(ctx.db, [trouble], per_host_limit=4, recovery_s=30)

    asyncio.run(limit())
    args = ["--data-dir", str(settings.data_dir), "queue", "host"]
    listed = CliRunner().invoke(app, args)
    assert listed.exit_code == 0, listed.output
    text = " ".join(listed.output.split())  # the console wraps long lines
    assert "cdn.example" in text and "limited to 2, paused until" in text and "normal by" in text


async def test_a_transfer_stops_at_a_429_instead_of_retrying_it(settings, library_dir) -> None:
    """The direct download's own retry loop would ask again within a second: a 429/503 ends
    the transfer with its status and Retry-After, its partial data kept for the next attempt."""
    body = media_bytes(64 * KiB)
    async with (
        TimedServer() as server,
        HttpClient(allowed_networks=["127.0.0.0/8"]) as client,
    ):
        server.refusals["/busy.mp4"] = [(503, "7"), (503, "7")]
        candidate = Candidate(server.add("/busy.mp4", body))
        with pytest.raises(AllCandidatesFailed) as failed:
            await download([candidate], library_dir / "busy.mp4", client=client, settings=settings)
    [cause] = failed.value.causes
    assert (cause.status, cause.retry_after_s, cause.transient) == (503, 7.0, True)
    assert "Retry-After: 7 s" in failed.value.line
    assert [h.method for h in server.hits] == ["HEAD", "GET"]  # one GET, not six
    assert politeness.troubles_of(failed.value) == [
        politeness.HostTrouble("127.0.0.1", "throttled", 503, 7.0)
    ]
