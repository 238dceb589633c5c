"""Events cross processes on PostgreSQL: a server and a worker context on one database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text

from showkeeper.config import Settings
from showkeeper.context import AppContext, open_context
from showkeeper.events import Event, Subscription
from showkeeper.events_pg import MAX_PAYLOAD_BYTES, PgEventBridge
from showkeeper.services import build_services, download_companions, pg_event_bridge
from tests.pg import fresh_pg_database

WAIT_S = 10.0


async def next_event(sub: Subscription) -> Event:
    return await asyncio.wait_for(sub.get(), WAIT_S)


def drain(sub: Subscription) -> list[Event]:
    out = []
    while (event := sub.get_nowait()) is not None:
        out.append(event)
    return out


def bridges(ctx: AppContext) -> list[PgEventBridge]:
    return [s for s in ctx.services if isinstance(s, PgEventBridge)]


@asynccontextmanager
async def server_and_worker(settings: Settings) -> AsyncIterator[tuple[AppContext, AppContext]]:
    """The API server's services and `showkeeper worker`'s, each with its own bus."""
    async with fresh_pg_database() as url:
        pg = settings.model_copy(update={"database_url": url})
        async with (
            open_context(pg, services=build_services) as server,
            open_context(pg, services=download_companions) as worker,
        ):
            yield server, worker


@pytest.mark.postgres
async def test_worker_events_reach_the_server_once_in_order(settings: Settings) -> None:
    async with server_and_worker(settings) as (server, worker):
        assert len(bridges(server)) == 1 and server.services[0] is bridges(server)[0]
        assert len(bridges(worker)) == 1 and worker.services[0] is bridges(worker)[0]
        worker_origin = bridges(worker)[0].origin
        with server.bus.subscribe() as at_server, worker.bus.subscribe() as at_worker:
            for n in range(5):
                worker.bus.publish("download_progress", item_id=7, n=n)
            worker.bus.publish("download_complete", item_id=7, path="Show/S01E01.mp4")
            got = [await next_event(at_server) for _ in range(6)]
            assert [(e.type, e.data.get("n")) for e in got] == [
                *[("download_progress", n) for n in range(5)],
                ("download_complete", None),
            ]
            assert got[-1].data == {"item_id": 7, "path": "Show/S01E01.mp4"}
            assert {e.origin for e in got} == {worker_origin}

            # Barriers: each side's own notifications come back to it before the other's
            # later reply, so any echo or duplicate would be in the buffers by now.
            server.bus.publish("queue_status", ping=1)
            assert (await next_event(at_worker)).type == "download_progress"  # its own, local
            while (event := await next_event(at_worker)).data != {"ping": 1}:
                assert event.origin is None
            worker.bus.publish("queue_status", pong=1)
            assert (await next_event(at_server)).data == {"ping": 1}
            pong = await next_event(at_server)
            assert pong.data == {"pong": 1} and pong.origin == worker_origin
            assert drain(at_server) == []
            assert [e.data for e in drain(at_worker)] == [{"pong": 1}]


@pytest.mark.postgres
async def test_oversize_event_is_dropped_and_later_ones_still_flow(settings: Settings) -> None:
    async with server_and_worker(settings) as (server, worker):
        with server.bus.subscribe() as at_server:
            worker.bus.publish("scan_progress", blob="x" * MAX_PAYLOAD_BYTES)
            worker.bus.publish("scan_complete", files=3)
            event = await next_event(at_server)
            assert (event.type, event.data) == ("scan_complete", {"files": 3})
            assert bridges(worker)[0].dropped == 1
            assert drain(at_server) == []


@pytest.mark.postgres
async def test_bridge_reconnects_after_its_connection_is_killed(settings: Settings) -> None:
    async with server_and_worker(settings) as (server, worker):
        bridge = bridges(server)[0]
        assert bridge._link is not None
        pid = bridge._link[0].get_server_pid()
        async with worker.db.session() as s:
            assert (await s.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})).scalar()
        for _ in range(int(WAIT_S / 0.05)):
            if bridge.connections == 2 and bridge._link is not None:
                break
            await asyncio.sleep(0.05)
        assert bridge.connections == 2
        with server.bus.subscribe() as at_server:
            worker.bus.publish("download_failed", item_id=3, error="gone")
            assert (await next_event(at_server)).data == {"item_id": 3, "error": "gone"}


@pytest.mark.postgres
async def test_stop_closes_the_connection_and_leaves_no_tasks(settings: Settings) -> None:
    before = asyncio.all_tasks()
    async with fresh_pg_database() as url:
        pg = settings.model_copy(update={"database_url": url})
        async with (
            open_context(pg, services=pg_event_bridge) as a,
            open_context(pg, services=pg_event_bridge) as b,
        ):
            with b.bus.subscribe() as at_b:
                a.bus.publish("episodes_added", series="s", count=2)
                assert (await next_event(at_b)).data == {"series": "s", "count": 2}
            links = [bridges(ctx)[0]._link for ctx in (a, b)]
        assert all(link is not None and link[0].is_closed() for link in links)
        assert all(bridges(ctx)[0]._link is None for ctx in (a, b))
    assert asyncio.all_tasks() <= before | {asyncio.current_task()}


async def test_no_bridge_on_sqlite(settings: Settings) -> None:
    async with open_context(settings, services=build_services) as server:
        assert server.db.is_sqlite
        assert server.service(PgEventBridge) is None
        assert pg_event_bridge(server) == []
        assert not any(s.name == "pg-event-bridge" for s in download_companions(server))
