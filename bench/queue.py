"""Benchmark: the download queue's bookkeeping, as a worker does it, against raw sqlite3.

A real SQLite file holds 10,000 episodes (candidates on 4 hosts) and a queue item for each.
The headline times what a download worker does around its transfers (transfers themselves
are no-ops here), with every setting at its default:

- showkeeper: what `WorkerPool` calls (src/showkeeper/downloads/worker.py):
  `claim.claim_batch(limit=download_concurrency (8), lease_s=download_lease_s,
  per_host_limit=download_per_host_concurrency, per_host_delay_s=...)`, then
  `finish.complete(...)` for each claimed item, one transaction each (item completed, episode
  marked downloaded, a history row), until nothing is left to claim;
- reference: the standard library's sqlite3 with the pragmas showkeeper's engine sets
  (WAL, synchronous=NORMAL, busy_timeout, foreign_keys; src/showkeeper/db/engine.py),
  BEGIN IMMEDIATE per write transaction: one `UPDATE ... RETURNING` claims up to 8 queued
  items (top priority level, then id order, through the same index), then per item one
  transaction with the same three effects (UPDATE the item, UPDATE the episode,
  INSERT ... SELECT the history row).
  The reference applies no per-host limit; showkeeper's claim does (default 4 per host).

Goal: showkeeper <= 3 x the reference. Both start from copies of the same queued database
file, alternating, RUNS times each; medians count. The rows both leave behind are counted
(items completed, history rows, episodes downloaded) and printed; a wrong count exits
non-zero.

Extra keys: the bulk enqueue (11,000 ids with 10% duplicates, in calls of 1,000) against
sqlite3 executemany of INSERT OR IGNORE, as before.

Run: .venv/bin/python bench/queue.py [--episodes 10000] [--runs 3]
Quick: .venv/bin/python bench/queue.py --episodes 1000 --runs 1
"""

from __future__ import annotations

import os
import sys

# Run as a script, this file's folder comes first on sys.path, and its name would shadow
# the standard library's `queue` module (imported by asyncio and logging).
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import sqlite3  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

from sqlalchemy import insert, select  # noqa: E402

from showkeeper.config import Settings, load_settings  # noqa: E402
from showkeeper.context import prepare_storage  # noqa: E402
from showkeeper.db import Database  # noqa: E402
from showkeeper.db.engine import BUSY_TIMEOUT_MS  # noqa: E402
from showkeeper.db.models import Episode, Series  # noqa: E402
from showkeeper.downloads import claim, finish, queue  # noqa: E402

CALL_SIZE = 1_000
GOAL = 3
ENQUEUE_GOAL = 5
OWNER = "bench-worker"


def url_of(episode_id: int) -> str:
    return f"http://media{episode_id % 4}.example/e{episode_id}.mp4"


async def setup(data_dir: Path, episodes: int) -> list[int]:
    settings = load_settings(env_file=None, data_dir=data_dir)
    db = await prepare_storage(settings)
    now = datetime.now(UTC)
    async with db.write() as s:
        series = Series(key="bench", folder="Bench", name="Bench")
        s.add(series)
        await s.flush()
        await s.execute(
            insert(Episode),
            [
                {
                    "series_id": series.id,
                    "season": 1 + i // 1000,
                    "episode": 1 + i % 1000,
                    "candidates": [{"url": url_of(i)}],
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(episodes)
            ],
        )
    async with db.session() as s:
        ids = list((await s.execute(select(Episode.id).order_by(Episode.id))).scalars())
    await db.dispose()
    return ids


def workload(ids: list[int]) -> list[int]:
    """Every id once plus 10% duplicates, shuffled: what a UI selection may send."""
    rng = random.Random(5)
    wanted = ids + rng.sample(ids, len(ids) // 10)
    rng.shuffle(wanted)
    return wanted


def connect(path: Path) -> sqlite3.Connection:
    """sqlite3 set up the way showkeeper's engine sets up its connections."""
    con = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    con.execute("PRAGMA foreign_keys=ON")
    con.execute("PRAGMA synchronous=NORMAL")
    return con


def checkpoint(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # copies get the whole database
    con.close()


def counts(path: Path) -> dict[str, int]:
    con = sqlite3.connect(path)
    try:
        one = lambda sql: int(con.execute(sql).fetchone()[0])  # noqa: E731
        return {
            "queued": one("SELECT count(*) FROM download_queue WHERE status = 'queued'"),
            "completed": one("SELECT count(*) FROM download_queue WHERE status = 'completed'"),
            "history": one("SELECT count(*) FROM download_history WHERE status = 'completed'"),
            "downloaded": one("SELECT count(*) FROM episodes WHERE is_downloaded = 1"),
        }
    finally:
        con.close()


# -- the worker's bookkeeping -----------------------------------------------------------------


async def worker_showkeeper(path: Path, settings: Settings) -> float:
    """The calls WorkerPool._tick and WorkerPool._complete make, transfers taking no time."""
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        start = time.perf_counter()
        while True:
            claims = await claim.claim_batch(
                db,
                owner=OWNER,
                limit=settings.download_concurrency,
                lease_s=settings.download_lease_s,
                per_host_limit=settings.download_per_host_concurrency,
                per_host_delay_s=settings.download_per_host_delay_s,
            )
            if not claims:
                break
            for claimed in claims:
                await finish.complete(
                    db,
                    claimed.id,
                    owner=OWNER,
                    file_path=f"Bench/Season 01/e{claimed.episode_id}.mp4",
                    size=1000,
                    candidate_url=url_of(claimed.episode_id),
                    track_hosts=settings.download_per_host_delay_s > 0,
                )
        return time.perf_counter() - start
    finally:
        await db.dispose()


# The highest priority level first, oldest first within it, read through the (status,
# priority, id) index as showkeeper's claim does: "ORDER BY priority DESC, id" would sort
# every queued row on each claim (a temp B-tree) and make the reference slower than it is.
CLAIM_SQL = (
    "UPDATE download_queue SET status = 'downloading', lease_owner = ?, lease_expires_at = ?, "
    "started_at = ?, updated_at = ? WHERE id IN (SELECT id FROM download_queue "
    "WHERE status = 'queued' AND priority = (SELECT max(priority) FROM download_queue "
    "WHERE status = 'queued') AND (next_attempt_at IS NULL OR next_attempt_at <= ?) "
    "ORDER BY id LIMIT ?) AND status = 'queued' "
    "RETURNING id, episode_id, attempts, max_attempts, source_host, downloaded_bytes"
)
COMPLETE_ITEM_SQL = (
    "UPDATE download_queue SET status = 'completed', finished_at = ?, updated_at = ?, "
    "lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = NULL, last_error = NULL "
    "WHERE id = ? AND status = 'downloading' AND lease_owner = ? RETURNING episode_id"
)
COMPLETE_EPISODE_SQL = (
    "UPDATE episodes SET file_path = ?, size = ?, is_downloaded = 1, updated_at = ? WHERE id = ?"
)
HISTORY_SQL = (
    "INSERT INTO download_history (episode_id, series_key, season, episode, status, file_path, "
    "size, candidate_url, error, attempts, started_at, finished_at) "
    "SELECT q.episode_id, s.key, e.season, e.episode, 'completed', e.file_path, e.size, ?, "
    "NULL, q.attempts + 1, q.started_at, ? FROM download_queue q "
    "JOIN episodes e ON e.id = q.episode_id JOIN series s ON s.id = e.series_id WHERE q.id = ?"
)


def stamp(when: datetime) -> str:
    return when.replace(tzinfo=None).isoformat(" ")


def worker_reference(path: Path, settings: Settings) -> float:
    con = connect(path)
    try:
        start = time.perf_counter()
        while True:
            now = datetime.now(UTC)
            expires = stamp(now + timedelta(seconds=settings.download_lease_s))
            con.execute("BEGIN IMMEDIATE")
            claimed = con.execute(
                CLAIM_SQL,
                (OWNER, expires, stamp(now), stamp(now), stamp(now), settings.download_concurrency),
            ).fetchall()
            con.execute("COMMIT")
            if not claimed:
                break
            for item_id, *_ in claimed:
                now_s = stamp(datetime.now(UTC))
                con.execute("BEGIN IMMEDIATE")
                row = con.execute(COMPLETE_ITEM_SQL, (now_s, now_s, item_id, OWNER)).fetchone()
                if row is not None:
                    episode_id = row[0]
                    file_path = f"Bench/Season 01/e{episode_id}.mp4"
                    con.execute(COMPLETE_EPISODE_SQL, (file_path, 1000, now_s, episode_id))
                    con.execute(HISTORY_SQL, (url_of(episode_id), now_s, item_id))
                con.execute("COMMIT")
        return time.perf_counter() - start
    finally:
        con.close()


# -- bulk enqueue (extra) ---------------------------------------------------------------------


async def enqueue_showkeeper(path: Path, wanted: list[int]) -> float:
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        start = time.perf_counter()
        for i in range(0, len(wanted), CALL_SIZE):
            await queue.enqueue(db, wanted[i : i + CALL_SIZE])
        return time.perf_counter() - start
    finally:
        await db.dispose()


def enqueue_reference(path: Path, wanted: list[int]) -> float:
    con = connect(path)
    try:
        start = time.perf_counter()
        now = stamp(datetime.now(UTC))
        for i in range(0, len(wanted), CALL_SIZE):
            con.execute("BEGIN IMMEDIATE")
            con.executemany(
                "INSERT OR IGNORE INTO download_queue (episode_id, status, priority, attempts, "
                "max_attempts, downloaded_bytes, source_host, created_at, updated_at) "
                "VALUES (?, 'queued', 0, 0, 5, 0, ?, ?, ?)",
                [(eid, f"media{eid % 4}.example", now, now) for eid in wanted[i : i + CALL_SIZE]],
            )
            con.execute("COMMIT")
        return time.perf_counter() - start
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    n = options.episodes
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
        work = Path(tmp)
        data = work / "data"
        data.mkdir()
        settings = load_settings(env_file=None, data_dir=data)
        ids = asyncio.run(setup(data, n))
        wanted = workload(ids)
        episodes_db = data / "showkeeper.db"
        checkpoint(episodes_db)
        queued_db = work / "queued.db"
        shutil.copyfile(episodes_db, queued_db)
        asyncio.run(enqueue_showkeeper(queued_db, wanted))
        checkpoint(queued_db)
        if counts(queued_db)["queued"] != n:
            sys.exit(f"the queued database holds {counts(queued_db)} items, not {n}")

        times: dict[str, list[float]] = {"sk": [], "ref": [], "sk_enqueue": [], "ref_enqueue": []}
        left: dict[str, list[dict[str, int]]] = {"sk": [], "ref": []}
        enqueued: dict[str, list[int]] = {"sk_enqueue": [], "ref_enqueue": []}
        for run in range(options.runs):
            order = ["sk", "ref"] if run % 2 == 0 else ["ref", "sk"]
            for side in order:
                copy = work / f"{side}-{run}.db"
                shutil.copyfile(queued_db, copy)
                gc.collect()  # neither side pays for the other's garbage
                if side == "sk":
                    times[side].append(asyncio.run(worker_showkeeper(copy, settings)))
                else:
                    times[side].append(worker_reference(copy, settings))
                left[side].append(counts(copy))
                copy.unlink()
            for side in order:
                name = f"{side}_enqueue"
                copy = work / f"{name}-{run}.db"
                shutil.copyfile(episodes_db, copy)
                gc.collect()
                if side == "sk":
                    times[name].append(asyncio.run(enqueue_showkeeper(copy, wanted)))
                else:
                    times[name].append(enqueue_reference(copy, wanted))
                enqueued[name].append(counts(copy)["queued"])
                copy.unlink()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"runs: {json.dumps({k: [round(x, 3) for x in v] for k, v in times.items()})}")
    done = {"queued": 0, "completed": n, "history": n, "downloaded": n}
    counts_ok = all(c == done for v in left.values() for c in v) and all(
        c == n for v in enqueued.values() for c in v
    )
    ratio = med["sk"] / med["ref"]
    line = {
        "bench": "queue",
        "items": n,
        "claim_limit": settings.download_concurrency,
        "per_host_limit": settings.download_per_host_concurrency,
        "showkeeper_s": round(med["sk"], 3),
        "showkeeper": "claim_batch + complete per item, as WorkerPool calls them",
        "reference": f"sqlite3: UPDATE..RETURNING claim of {settings.download_concurrency}, one transaction per completion",
        "reference_s": round(med["ref"], 3),
        "ratio": round(ratio, 2),
        "goal": GOAL,
        "showkeeper_ms_per_item": round(med["sk"] / n * 1000, 3),
        "reference_ms_per_item": round(med["ref"] / n * 1000, 3),
        "enqueue_ids": len(wanted),
        "enqueue_showkeeper_s": round(med["sk_enqueue"], 3),
        "enqueue_reference": "sqlite3 executemany INSERT OR IGNORE",
        "enqueue_reference_s": round(med["ref_enqueue"], 3),
        "enqueue_ratio": round(med["sk_enqueue"] / med["ref_enqueue"], 2),
        "enqueue_goal": ENQUEUE_GOAL,
        "showkeeper_rows": left["sk"][-1],
        "reference_rows": left["ref"][-1],
        "counts_ok": counts_ok,
        "runs": options.runs,
        "met": ratio <= GOAL,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(line))
    if not counts_ok:
        sys.exit(f"wrong rows left behind: {left} {enqueued}")


if __name__ == "__main__":
    main()
