"""The v3 answer cache: shared computations, dropped on library events and writes, bounded
in age; a failure is not kept."""

from __future__ import annotations

import asyncio

import pytest

from showkeeper.events import EventBus
from showkeeper.web.arr.cache import ResponseCache


async def test_concurrent_asks_share_one_computation() -> None:
    cache = ResponseCache(EventBus())
    release = asyncio.Event()
    calls = 0

    async def compute() -> bytes:
        nonlocal calls
        calls += 1
        await release.wait()
        return b"[1]"

    waiting = [asyncio.create_task(cache.get("series", compute)) for _ in range(8)]
    await asyncio.sleep(0.01)
    release.set()
    assert [e.raw for e in await asyncio.gather(*waiting)] == [b"[1]"] * 8
    assert calls == 1
    assert (await cache.get("series", compute)).raw == b"[1]" and calls == 1


async def test_library_events_and_writes_drop_answers() -> None:
    bus = EventBus()
    cache = ResponseCache(bus)
    await cache.start()
    try:
        values = iter([b"a", b"b", b"c", b"d"])

        async def compute() -> bytes:
            return next(values)

        assert (await cache.get("k", compute)).raw == b"a"
        assert (await cache.get("k", compute)).raw == b"a"
        bus.publish("download_progress", queue_id=1)  # progress changes no answer
        await asyncio.sleep(0.01)
        assert (await cache.get("k", compute)).raw == b"a"
        bus.publish("download_complete", queue_id=1)
        await asyncio.sleep(0.01)
        assert (await cache.get("k", compute)).raw == b"b"
        cache.invalidate()
        assert (await cache.get("k", compute)).raw == b"c"
    finally:
        await cache.stop()


async def test_answers_age_out_and_changes_during_a_computation_are_not_kept() -> None:
    cache = ResponseCache(EventBus(), ttl_s=0.05)
    n = 0

    async def compute() -> bytes:
        nonlocal n
        n += 1
        return str(n).encode()

    assert (await cache.get("k", compute)).raw == b"1"
    await asyncio.sleep(0.06)
    assert (await cache.get("k", compute)).raw == b"2"

    async def racing() -> bytes:
        cache.invalidate()  # the library changed while this answer was being made
        return b"old"

    cache.ttl_s = 60
    assert (await cache.get("r", racing)).raw == b"old"
    assert (await cache.get("r", compute)).raw == b"3"


async def test_a_failure_reaches_every_waiter_and_is_not_kept() -> None:
    cache = ResponseCache(EventBus())
    gate = asyncio.Event()

    async def failing() -> bytes:
        await gate.wait()
        raise ValueError("database gone")

    tasks = [asyncio.create_task(cache.get("k", failing)) for _ in range(3)]
    await asyncio.sleep(0.01)
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, ValueError) for r in results)

    async def fine() -> bytes:
        return b"ok"

    assert (await cache.get("k", fine)).raw == b"ok"


async def test_entries_are_bounded() -> None:
    cache = ResponseCache(EventBus(), max_entries=3)
    for i in range(10):

        async def compute(i: int = i) -> bytes:
            return str(i).encode()

        await cache.get(i, compute)
    assert len(cache._entries) == 3
    with pytest.raises(KeyError):
        cache._entries[0]


async def test_on_sqlite_any_commit_drops_answers(tmp_path) -> None:
    import sqlite3

    from showkeeper.web.arr.cache import for_database

    path = tmp_path / "sk.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.commit()
    cache = for_database(EventBus(), f"sqlite+aiosqlite:///{path}")
    assert cache.ttl_s == 60.0
    n = 0

    async def compute() -> bytes:
        nonlocal n
        n += 1
        return str(n).encode()

    try:
        assert (await cache.get("k", compute)).raw == b"1"
        conn.execute("SELECT count(*) FROM t").fetchall()  # a read changes nothing
        assert (await cache.get("k", compute)).raw == b"1"
        conn.execute("INSERT INTO t VALUES (1)")  # another tool's write: no event at all
        conn.commit()
        assert (await cache.get("k", compute)).raw == b"2"
    finally:
        conn.close()
    assert for_database(EventBus(), "postgresql+asyncpg://u@h/db").ttl_s == 2.0


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("gzip, deflate", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip;q=0.0", False),
        ("identity", False),
        ("", False),
        ("gzip;q=junk", False),
    ],
)
def test_accept_encoding(header: str, ok: bool) -> None:
    from showkeeper.web.arr.cache import accepts_gzip

    assert accepts_gzip(header) is ok


async def test_large_answers_are_kept_compressed() -> None:
    import gzip

    from showkeeper.web.arr.cache import respond

    cache = ResponseCache(EventBus())
    big = b'[{"title": "x"}' + b', {"title": "x"}' * 10_000 + b"]"

    async def compute() -> bytes:
        return big

    encoded = await cache.get("series", compute)
    assert encoded.raw == big and gzip.decompress(encoded.gzip) == big
    assert len(encoded.gzip) < len(big) / 10
    zipped = respond(encoded, "gzip")
    assert zipped.headers["content-encoding"] == "gzip" and zipped.body == encoded.gzip
    plain = respond(encoded, "identity")
    assert "content-encoding" not in plain.headers and plain.body == big
    assert plain.headers["vary"] == "Accept-Encoding"

    async def small() -> bytes:
        return b"[]"

    assert (await cache.get("small", small)).gzip is None
