"""Claims from concurrent workers, each with its own connection pool, on SQLite and PostgreSQL:
no item is claimed twice and per-host limits hold across workers."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from showkeeper.db import Database
from showkeeper.db.migrate import upgrade
from showkeeper.db.models import DownloadHistory, DownloadHost, Episode, QueueItem
from showkeeper.downloads import claim, finish, host_limits, politeness, queue
from tests.integration.downloads.queue_support import add_series
from tests.pg import fresh_pg_database

ITEMS = 120
HOSTS = ("a.example", "b.example", "c.example")


async def seed(url: str) -> list[int]:
    db = Database(url)
    try:
        await upgrade(db)
        episodes = [
            (1 + n // 100, 1 + n % 100, [{"url": f"http://{HOSTS[n % 3]}/{n}.mp4"}])
            for n in range(ITEMS)
        ]
        ids = await add_series(db, "many", episodes)
        result = await queue.enqueue(db, ids + ids[:10])  # with duplicates
        assert len(result.item_ids) == ITEMS
        return result.item_ids
    finally:
        await db.dispose()


async def drain(url: str, owner: str, start: asyncio.Barrier) -> list[int]:
    """Claim and complete in small batches until nothing is left."""
    db = Database(url, pool_size=2)
    got: list[int] = []
    try:
        await db.check()  # connected before the race starts
        await start.wait()
        while True:
            claims = await claim.claim_batch(db, owner=owner, limit=7)
            if not claims:
                return got
            got.extend(c.id for c in claims)
            done = [finish.Completion(c.id, f"f{c.id}", 1) for c in claims]
            assert len(await finish.complete_batch(db, done, owner=owner)) == len(claims)
    finally:
        await db.dispose()


async def check_no_double_claims(url: str) -> None:
    item_ids = await seed(url)
    start = asyncio.Barrier(4)
    results = await asyncio.gather(*(drain(url, f"w{n}", start) for n in range(4)))
    claimed = [i for batch in results for i in batch]
    assert sorted(claimed) == sorted(item_ids), "an item was claimed twice or never"
    assert sum(1 for batch in results if batch) >= 2, "the claims did not interleave"


async def hold_one_per_host(url: str, owner: str) -> list[str | None]:
    db = Database(url, pool_size=2)
    try:
        claims = await claim.claim_batch(db, owner=owner, limit=10, per_host_limit=1)
        return [c.source_host for c in claims]
    finally:
        await db.dispose()


async def check_per_host_limit_across_workers(url: str) -> None:
    await seed(url)
    results = await asyncio.gather(*(hold_one_per_host(url, f"w{n}") for n in range(5)))
    per_host = Counter(host for batch in results for host in batch)
    assert per_host == {host: 1 for host in HOSTS}


async def claim_hosts(url: str, owner: str, now: datetime) -> list[str | None]:
    db = Database(url, pool_size=2)
    try:
        claims = await claim.claim_batch(
            db, owner=owner, limit=10, per_host_limit=4, recovery_s=30, lease_s=600, now=now
        )
        return [c.source_host for c in claims]
    finally:
        await db.dispose()


async def check_hosts_that_asked_to_slow_down_across_workers(url: str) -> None:
    """A 429 recorded by one process pauses its host and lowers its limit for every worker's
    claim; a host with its own concurrency keeps it; the limit grows back, then is forgotten."""
    await seed(url)
    db = Database(url)
    try:
        now = datetime.now(UTC)
        await host_limits.set_limit(db, "b.example", concurrency=3, delay_s=None)
        troubles = [
            politeness.HostTrouble("a.example", "throttled", 429, 10.0),
            politeness.HostTrouble("b.example", "throttled", 503, 10.0),
        ]
        until = await politeness.record_troubles(
            db, troubles, per_host_limit=4, recovery_s=30, now=now
        )
        assert until == now + timedelta(seconds=10)
        # a second answer from before the pause: no second halving
        await politeness.record_troubles(db, troubles[:1], per_host_limit=4, recovery_s=30, now=now)
        views = {v.host: v for v in await host_limits.list_limits(db, per_host_limit=4, now=now)}
        assert (views["a.example"].limited_to, views["a.example"].paused_until) == (2, until)
        assert (views["b.example"].limited_to, views["b.example"].concurrency) == (None, 3)

        paused = await asyncio.gather(*(claim_hosts(url, f"p{n}", now) for n in range(3)))
        assert Counter(h for batch in paused for h in batch) == {"c.example": 4}

        after = until + timedelta(seconds=1)
        resumed = await asyncio.gather(*(claim_hosts(url, f"r{n}", after) for n in range(3)))
        assert Counter(h for batch in resumed for h in batch) == {"a.example": 2, "b.example": 3}

        grown = until + timedelta(seconds=31)  # one recovery step: a.example may run 3
        more = await asyncio.gather(*(claim_hosts(url, f"g{n}", grown) for n in range(3)))
        assert Counter(h for batch in more for h in batch) == {"a.example": 1}

        normal = until + timedelta(seconds=61)  # back to 4: the claim forgets the state
        last = await claim_hosts(url, "n", normal)
        assert Counter(last) == {"a.example": 1}
        views = {v.host: v for v in await host_limits.list_limits(db, per_host_limit=4, now=normal)}
        assert set(views) == {"b.example"} and views["b.example"].state() == ""

        async with db.session() as s:
            rows = await s.execute(
                select(DownloadHost.host).where(DownloadHost.throttle_until.is_not(None))
            )
            assert list(rows) == []

        # one timeout is noted; a second within two minutes limits the host (5 s pause)
        timeout = [politeness.HostTrouble("c.example", "timeout")]
        assert not await politeness.record_troubles(db, timeout, per_host_limit=4, recovery_s=30)
        again = datetime.now(UTC) + timedelta(seconds=60)
        until = await politeness.record_troubles(
            db, timeout, per_host_limit=4, recovery_s=30, now=again
        )
        assert until == again + timedelta(seconds=5)
        views = {v.host: v for v in await host_limits.list_limits(db, per_host_limit=4, now=again)}
        assert views["c.example"].limited_to == 2
    finally:
        await db.dispose()


async def check_expired_leases_are_reclaimed(url: str) -> None:
    await seed(url)
    db = Database(url)
    try:
        now = datetime.now(UTC)
        first = await claim.claim_batch(db, owner="dead", limit=5, lease_s=10, now=now)
        assert not await claim.claim_batch(
            db, owner="alive", limit=5, item_ids=[c.id for c in first], now=now
        )
        later = now + timedelta(seconds=11)
        again = await claim.claim_batch(
            db, owner="alive", limit=5, item_ids=[c.id for c in first], now=later
        )
        assert sorted(c.id for c in again) == sorted(c.id for c in first)
        assert await queue.heartbeat(db, owner="dead", item_ids=[c.id for c in first]) == set()
        async with db.session() as s:
            owners = set((await s.execute(select(QueueItem.lease_owner))).scalars())
        assert "dead" not in owners
    finally:
        await db.dispose()


async def check_one_and_batch_completions_agree(url: str) -> None:
    """complete() has its own statements for the worker's one-item case: same rows."""
    await seed(url)
    db = Database(url)
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        claims = await claim.claim_batch(db, owner="w", limit=3, now=now)
        one, *batch = claims
        assert await finish.complete(
            db, one.id, owner="w", file_path="f", size=7, candidate_url="http://u/", now=now
        )
        done = [finish.Completion(c.id, "f", 7, "http://u/") for c in batch]
        assert await finish.complete_batch(db, done, owner="w", now=now) == [c.id for c in batch]
        assert not await finish.complete(db, one.id, owner="w", file_path="g", size=1)
        async with db.session() as s:
            items = {
                q.id: (q.status, q.finished_at, q.lease_owner, q.lease_expires_at, q.attempts)
                for q in (await s.execute(select(QueueItem))).scalars()
                if q.id in {c.id for c in claims}
            }
            episodes = {
                e.id: (e.is_downloaded, e.file_path, e.size)
                for e in (await s.execute(select(Episode))).scalars()
                if e.id in {c.episode_id for c in claims}
            }
            history = {
                h.episode_id: (
                    h.status,
                    h.file_path,
                    h.size,
                    h.candidate_url,
                    h.error,
                    h.attempts,
                    h.finished_at,
                    h.started_at is not None,
                    h.series_key,
                )
                for h in (await s.execute(select(DownloadHistory))).scalars()
            }
        assert len(set(items.values())) == 1 and items[one.id][:3] == ("completed", now, None)
        assert set(episodes.values()) == {(True, "f", 7)}
        assert sorted(history) == sorted(c.episode_id for c in claims)
        assert len(set(history.values())) == 1, history
        assert next(iter(history.values()))[:6] == ("completed", "f", 7, "http://u/", None, 1)
    finally:
        await db.dispose()


@pytest.mark.parametrize(
    "check",
    [
        check_no_double_claims,
        check_per_host_limit_across_workers,
        check_hosts_that_asked_to_slow_down_across_workers,
        check_expired_leases_are_reclaimed,
        check_one_and_batch_completions_agree,
    ],
)
async def test_sqlite(check, tmp_path) -> None:
    await check(f"sqlite+aiosqlite:///{tmp_path / 'q.db'}")


@pytest.mark.postgres
@pytest.mark.parametrize(
    "check",
    [
        check_no_double_claims,
        check_per_host_limit_across_workers,
        check_hosts_that_asked_to_slow_down_across_workers,
        check_expired_leases_are_reclaimed,
        check_one_and_batch_completions_agree,
    ],
)
async def test_postgres(check) -> None:
    async with fresh_pg_database() as url:
        await check(url)
