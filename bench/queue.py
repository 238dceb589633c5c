"""Benchmark: the download queue's bookkeeping against raw sqlite3.

Enqueue 10,000 episodes given as 11,000 ids (10% duplicates, in calls of 1,000), then claim
them in batches and finish each with a no-op transfer (queue item completed, episode marked
downloaded, a history row). The reference does the same rows and the same effects with the
standard library's sqlite3 and executemany on a copy of the same database file.

Each side runs RUNS times on a fresh copy of the database, alternating; the best run of each
is compared. Run: .venv/bin/python bench/queue.py
"""

from __future__ import annotations

import os
import sys

# Run as a script, this file's folder comes first on sys.path, and its name would shadow
# the standard library's `queue` module (imported by asyncio and logging).
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import asyncio  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import sqlite3  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

from sqlalchemy import func, insert, select  # noqa: E402

from showkeeper.config import load_settings  # noqa: E402
from showkeeper.context import prepare_storage  # noqa: E402
from showkeeper.db import Database  # noqa: E402
from showkeeper.db.models import DownloadHistory, Episode, QueueItem, Series  # noqa: E402
from showkeeper.downloads import queue  # noqa: E402

EPISODES = 10_000
DUPLICATES = 1_000
CALL_SIZE = 1_000
CLAIM_BATCH = 1000
GOAL = 5
RUNS = 5


async def setup(data_dir: Path) -> list[int]:
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
                    "candidates": [{"url": f"http://media{i % 4}.example/e{i}.mp4"}],
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(EPISODES)
            ],
        )
    async with db.session() as s:
        ids = list((await s.execute(select(Episode.id).order_by(Episode.id))).scalars())
    await db.dispose()
    return ids


def workload(ids: list[int]) -> list[int]:
    rng = random.Random(5)
    wanted = ids + rng.sample(ids, DUPLICATES)
    rng.shuffle(wanted)
    return wanted


async def run_showkeeper(url: str, wanted: list[int]) -> tuple[float, int]:
    db = Database(url)
    try:
        start = time.perf_counter()
        for i in range(0, len(wanted), CALL_SIZE):
            await queue.enqueue(db, wanted[i : i + CALL_SIZE])
        while True:
            claims = await queue.claim_batch(db, owner="bench", limit=CLAIM_BATCH)
            if not claims:
                break
            done = [
                queue.Completion(c.id, f"Bench/Season 01/e{c.episode_id}.mp4", 1000) for c in claims
            ]
            await queue.complete_batch(db, done, owner="bench")
        elapsed = time.perf_counter() - start
        async with db.session() as s:
            completed = await s.scalar(select(func.count()).where(QueueItem.status == "completed"))
            history = await s.scalar(select(func.count()).select_from(DownloadHistory))
        assert completed == history == EPISODES, (completed, history)
        return elapsed, int(completed or 0)
    finally:
        await db.dispose()


def run_reference(path: Path, wanted: list[int]) -> float:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    start = time.perf_counter()
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
    for i in range(0, len(wanted), CALL_SIZE):
        con.execute("BEGIN IMMEDIATE")
        con.executemany(
            "INSERT OR IGNORE INTO download_queue (episode_id, status, priority, attempts, "
            "max_attempts, downloaded_bytes, source_host, created_at, updated_at) "
            "VALUES (?, 'queued', 0, 0, 5, 0, ?, ?, ?)",
            [(eid, f"media{eid % 4}.example", now, now) for eid in wanted[i : i + CALL_SIZE]],
        )
        con.execute("COMMIT")
    con.execute("BEGIN IMMEDIATE")
    rows = con.execute(
        "SELECT q.id, q.episode_id, s.key, e.season, e.episode FROM download_queue q "
        "JOIN episodes e ON e.id = q.episode_id JOIN series s ON s.id = e.series_id "
        "WHERE q.status = 'queued'"
    ).fetchall()
    con.executemany(
        "UPDATE download_queue SET status='completed', finished_at=?, updated_at=?, "
        "downloaded_bytes=1000, total_bytes=1000 WHERE id=?",
        [(now, now, r[0]) for r in rows],
    )
    con.executemany(
        "UPDATE episodes SET is_downloaded=1, file_path=?, size=1000, updated_at=? WHERE id=?",
        [(f"Bench/Season 01/e{r[1]}.mp4", now, r[1]) for r in rows],
    )
    con.executemany(
        "INSERT INTO download_history (episode_id, series_key, season, episode, status, "
        "file_path, size, attempts, finished_at) VALUES (?, ?, ?, ?, 'completed', ?, 1000, 1, ?)",
        [(r[1], r[2], r[3], r[4], f"Bench/Season 01/e{r[1]}.mp4", now) for r in rows],
    )
    con.execute("COMMIT")
    elapsed = time.perf_counter() - start
    done = con.execute("SELECT count(*) FROM download_queue WHERE status='completed'").fetchone()
    assert done[0] == EPISODES, done
    con.close()
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        ids = asyncio.run(setup(data))
        wanted = workload(ids)
        template = data / "showkeeper.db"
        con = sqlite3.connect(template)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the copies get the whole database
        con.close()
        ours: list[float] = []
        theirs: list[float] = []
        # Best of RUNS, alternating, each on a fresh copy: the machine is shared and noisy.
        for run in range(RUNS):
            mine = Path(tmp) / f"showkeeper-{run}.db"
            ref = Path(tmp) / f"reference-{run}.db"
            shutil.copyfile(template, mine)
            shutil.copyfile(template, ref)
            gc.collect()  # neither side pays for the other's garbage
            ours.append(asyncio.run(run_showkeeper(f"sqlite+aiosqlite:///{mine}", wanted))[0])
            gc.collect()
            theirs.append(run_reference(ref, wanted))
    showkeeper_s, reference_s = min(ours), min(theirs)
    print(
        json.dumps(
            {
                "bench": "queue",
                "showkeeper_s": round(showkeeper_s, 3),
                "reference": "sqlite3 executemany",
                "reference_s": round(reference_s, 3),
                "ratio": round(showkeeper_s / reference_s, 2),
                "goal": GOAL,
            }
        )
    )


if __name__ == "__main__":
    main()
