"""A Hypothesis state machine over the real queue functions on a real SQLite file.

Workers enqueue, claim, heartbeat, complete and fail; the clock jumps (a crashed worker's
lease expires and another worker reclaims the item); users cancel and retry. After every
step the database must agree with a simple model: one active item per episode, no item
lost, none completed twice, and a cancel always wins over the worker that held the item.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, func, insert, select, update

from showkeeper.config import load_settings
from showkeeper.context import prepare_storage
from showkeeper.db import Database
from showkeeper.db.models import (
    DownloadHistory,
    DownloadHost,
    Episode,
    QueueItem,
    Series,
)
from showkeeper.domain.queue_rules import retry_delay_s
from showkeeper.downloads import claim, finish, queue

EPISODES = 4
WORKERS = ("w1", "w2", "w3")
LEASE_S = 60.0
BASE_S, CAP_S = 10.0, 40.0
MAX_ATTEMPTS = 3


@dataclass
class Item:
    episode: int
    status: str = "queued"
    owner: str | None = None
    lease_until: datetime | None = None
    attempts: int = 0
    due: datetime | None = None


class QueueMachine(RuleBasedStateMachine):
    def __init__(self, loop: asyncio.AbstractEventLoop, db: Database, episodes: list[int]):
        super().__init__()
        self.loop = loop
        self.db = db
        self.episodes = episodes
        self.now = datetime(2026, 1, 1, tzinfo=UTC)
        self.items: dict[int, Item] = {}
        self.belief: dict[str, set[int]] = {w: set() for w in WORKERS}
        self.completions: list[int] = []
        self.final_failures = 0
        self.cancels = 0

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    @initialize()
    def reset(self) -> None:
        async def wipe() -> None:
            async with self.db.write() as s:
                for model in (QueueItem, DownloadHistory, DownloadHost):
                    await s.execute(delete(model))
                await s.execute(update(Episode).values(is_downloaded=False, file_path=None))

        self.run(wipe())

    # -- model helpers -------------------------------------------------------------------

    def active_episode(self, episode: int) -> int | None:
        for item_id, item in self.items.items():
            if item.episode == episode and item.status in ("queued", "downloading"):
                return item_id
        return None

    def claimable(self) -> set[int]:
        out = set()
        for item_id, item in self.items.items():
            due = item.status == "queued" and (item.due is None or item.due <= self.now)
            expired = item.status == "downloading" and item.lease_until < self.now
            if due or expired:
                out.add(item_id)
        return out

    def holds(self, worker: str, item_id: int) -> bool:
        item = self.items[item_id]
        return item.status == "downloading" and item.owner == worker

    # -- rules ---------------------------------------------------------------------------

    @precondition(lambda self: any(self.active_episode(e) is None for e in self.episodes))
    @rule(picks=st.lists(st.integers(0, EPISODES - 1), min_size=1, max_size=6))
    def enqueue(self, picks: list[int]) -> None:
        ids = [self.episodes[i] for i in picks]
        already = {e for e in ids if self.active_episode(e) is not None}
        result = self.run(queue.enqueue(self.db, ids, max_attempts=MAX_ATTEMPTS, now=self.now))
        assert set(result.already_active) == already
        assert set(result.added) == set(ids) - already
        assert len(result.item_ids) == len(set(ids) - already)  # duplicates in a call: one item
        for item_id, episode in zip(result.item_ids, result.added, strict=True):
            assert item_id not in self.items
            self.items[item_id] = Item(episode)

    @precondition(lambda self: bool(self.items))
    @rule(worker=st.sampled_from(WORKERS), limit=st.integers(1, 3))
    def claim(self, worker: str, limit: int) -> None:
        claimable = self.claimable()
        claims = self.run(
            claim.claim_batch(self.db, owner=worker, limit=limit, lease_s=LEASE_S, now=self.now)
        )
        got = {c.id for c in claims}
        assert got <= claimable, "claimed an item that was not claimable"
        assert len(got) == min(limit, len(claimable))
        for item in self.items.values():
            if item.status == "downloading" and item.lease_until < self.now:
                item.status, item.owner = "queued", None  # reclaimed by this claim
        for item_id in got:
            item = self.items[item_id]
            item.status, item.owner = "downloading", worker
            item.lease_until = self.now + timedelta(seconds=LEASE_S)
            self.belief[worker].add(item_id)

    @precondition(lambda self: bool(self.items))
    @rule(seconds=st.sampled_from([1, 30, 61, 200]))
    def clock(self, seconds: int) -> None:
        """Time passes; past the lease, a silent worker has in effect crashed."""
        self.now += timedelta(seconds=seconds)

    @precondition(lambda self: any(i.status == "downloading" for i in self.items.values()))
    @rule(data=st.data())
    def crash(self, data: st.DataObject) -> None:
        """A worker goes silent (kill -9) past its lease; another worker claims its items.

        The silent worker keeps believing it holds them, so its late complete/fail/heartbeat
        calls must all find nothing."""
        owners = sorted({i.owner for i in self.items.values() if i.status == "downloading"})
        victim = data.draw(st.sampled_from(owners))
        self.now += timedelta(seconds=LEASE_S + 1)
        self.claim(data.draw(st.sampled_from([w for w in WORKERS if w != victim])), 3)

    @precondition(lambda self: any(self.belief.values()))
    @rule(data=st.data())
    def heartbeat(self, data: st.DataObject) -> None:
        worker = data.draw(st.sampled_from([w for w in WORKERS if self.belief[w]]))
        mine = sorted(self.belief[worker])
        held = self.run(
            queue.heartbeat(self.db, owner=worker, item_ids=mine, lease_s=LEASE_S, now=self.now)
        )
        assert held == {i for i in mine if self.holds(worker, i)}
        for item_id in held:
            self.items[item_id].lease_until = self.now + timedelta(seconds=LEASE_S)
        self.belief[worker] = set(held)

    @precondition(lambda self: any(self.belief.values()))
    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        worker = data.draw(st.sampled_from([w for w in WORKERS if self.belief[w]]))
        item_id = data.draw(st.sampled_from(sorted(self.belief[worker])))
        expected = self.holds(worker, item_id)
        done = self.run(
            finish.complete(
                self.db, item_id, owner=worker, file_path=f"f{item_id}.mp4", size=1, now=self.now
            )
        )
        assert done == expected
        self.belief[worker].discard(item_id)
        if done:
            assert item_id not in self.completions
            self.completions.append(item_id)
            self.items[item_id].status, self.items[item_id].owner = "completed", None

    @precondition(lambda self: any(self.belief.values()))
    @rule(data=st.data(), permanent=st.booleans())
    def fail(self, data: st.DataObject, permanent: bool) -> None:
        worker = data.draw(st.sampled_from([w for w in WORKERS if self.belief[w]]))
        item_id = data.draw(st.sampled_from(sorted(self.belief[worker])))
        expected_held = self.holds(worker, item_id)
        result = self.run(
            finish.fail(
                self.db,
                item_id,
                owner=worker,
                error="boom",
                permanent=permanent,
                retry_base_s=BASE_S,
                retry_cap_s=CAP_S,
                now=self.now,
            )
        )
        self.belief[worker].discard(item_id)
        if not expected_held:
            assert result.outcome == "lost"
            return
        item = self.items[item_id]
        item.attempts += 1
        item.owner = None
        if permanent or item.attempts >= MAX_ATTEMPTS:
            assert result.outcome == "failed"
            item.status = "failed"
            self.final_failures += 1
        else:
            assert result.outcome == "retry"
            wait = retry_delay_s(item.attempts, base_s=BASE_S, cap_s=CAP_S)
            assert result.next_attempt_at == self.now + timedelta(seconds=wait)
            item.status, item.due = "queued", result.next_attempt_at

    @precondition(lambda self: any(i.status != "cancelled" for i in self.items.values()))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        item_id = data.draw(st.sampled_from(sorted(self.items)))
        item = self.items[item_id]
        result = self.run(finish.cancel(self.db, item_id, now=self.now))
        assert result.previous == item.status
        assert result.cancelled == (item.status in ("queued", "downloading"))
        if result.cancelled:
            item.status, item.owner = "cancelled", None
            self.cancels += 1

    @precondition(lambda self: any(i.status == "failed" for i in self.items.values()))
    @rule()
    def retry(self) -> None:
        retried = self.run(finish.retry(self.db, now=self.now))
        expected = set()
        for episode in {i.episode for i in self.items.values()}:
            if self.active_episode(episode) is not None:
                continue
            failed = [
                k for k, i in self.items.items() if i.episode == episode and i.status == "failed"
            ]
            if failed:
                expected.add(max(failed))
        assert set(retried) == expected
        for item_id in retried:
            item = self.items[item_id]
            item.status, item.attempts, item.due = "queued", 0, None

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def database_agrees_with_the_model(self) -> None:
        async def read():
            async with self.db.session() as s:
                rows = (
                    await s.execute(
                        select(
                            QueueItem.id,
                            QueueItem.episode_id,
                            QueueItem.status,
                            QueueItem.lease_owner,
                        )
                    )
                ).all()
                history = dict(
                    (
                        await s.execute(
                            select(DownloadHistory.status, func.count()).group_by(
                                DownloadHistory.status
                            )
                        )
                    ).all()
                )
            return rows, history

        rows, history = self.run(read())
        by_id = {r.id: r for r in rows}
        # no item lost: every item the model knows is still there, with the same status
        assert set(by_id) == set(self.items)
        for item_id, item in self.items.items():
            assert by_id[item_id].status == item.status, (item_id, item)
            assert by_id[item_id].lease_owner == item.owner
        # one active item per episode
        active = [r.episode_id for r in rows if r.status in ("queued", "downloading")]
        assert len(active) == len(set(active))
        # none completed twice; every finish wrote exactly one history row
        assert len(self.completions) == len(set(self.completions))
        assert history.get("completed", 0) == len(self.completions)
        assert history.get("failed", 0) == self.final_failures
        assert history.get("cancelled", 0) == self.cancels


@pytest.mark.slow
def test_queue_state_machine(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    try:
        settings_ = load_settings(env_file=None, data_dir=tmp_path / "data")

        async def setup() -> tuple[Database, list[int]]:
            db = await prepare_storage(settings_)
            async with db.write() as s:
                series_id = (
                    await s.execute(
                        insert(Series)
                        .values(key="s", folder="S", name="S", options={}, source_state={})
                        .returning(Series.id)
                    )
                ).scalar_one()
                ids = (
                    await s.execute(
                        insert(Episode).returning(Episode.id),
                        [
                            {"series_id": series_id, "season": 1, "episode": n, "candidates": []}
                            for n in range(1, EPISODES + 1)
                        ],
                    )
                ).scalars()
                return db, list(ids)

        db, episodes = loop.run_until_complete(setup())
        try:
            run_state_machine_as_test(
                lambda: QueueMachine(loop, db, episodes),
                settings=settings(
                    max_examples=20,
                    stateful_step_count=30,
                    deadline=None,
                    suppress_health_check=[HealthCheck.too_slow],
                ),
            )
        finally:
            loop.run_until_complete(db.dispose())
    finally:
        loop.close()
