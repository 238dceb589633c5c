import asyncio

from showkeeper.events import EventBus


async def test_subscribers_receive_in_order_and_filter_types() -> None:
    bus = EventBus()
    with bus.subscribe() as everything, bus.subscribe(types={"scan_complete"}) as scans:
        bus.publish("download_progress", item_id=1, bytes=10)
        bus.publish("scan_complete", files=3)
        got = [await everything.get(), await everything.get()]
        assert [e.type for e in got] == ["download_progress", "scan_complete"]
        assert (await scans.get()).data == {"files": 3}
        assert scans.get_nowait() is None
        assert got[0].room == "download_progress" and got[1].room == "scan_progress"


async def test_full_buffer_drops_oldest_progress_not_completions() -> None:
    bus = EventBus()
    with bus.subscribe(maxsize=3) as slow:
        bus.publish("download_complete", item_id=1)
        for n in range(5):
            bus.publish("download_progress", item_id=2, n=n)
        kept = [slow.get_nowait() for _ in range(3)]
        assert [e.type for e in kept if e] == [
            "download_complete",
            "download_progress",
            "download_progress",
        ]
        assert [e.data.get("n") for e in kept if e][1:] == [3, 4]
        assert slow.dropped == 3


async def test_close_ends_iteration() -> None:
    bus = EventBus()
    sub = bus.subscribe()

    async def consume() -> list[str]:
        return [e.type async for e in sub]

    task = asyncio.create_task(consume())
    bus.publish("scan_progress", n=1)
    await asyncio.sleep(0)
    bus.close()
    assert await asyncio.wait_for(task, 1) == ["scan_progress"]
