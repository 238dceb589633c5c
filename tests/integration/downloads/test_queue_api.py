"""/api/queue through the real app (workers off, so items stay where the test puts them)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from showkeeper.db import Database
from showkeeper.db.models import Episode, SystemSetting
from showkeeper.downloads import claim, control, finish
from tests.integration.downloads.queue_support import add_series


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"download_workers_in_server": False})


@pytest.fixture
def ctx_of(app):
    return app.state.ctx


def cand(n: int) -> list[dict[str, str]]:
    return [{"url": f"http://media.example/{n}.mp4"}]


async def test_add_status_and_paging(api, ctx_of) -> None:
    ids = await add_series(ctx_of.db, "show", [(1, n, cand(n)) for n in range(1, 6)])
    resp = await api.post("/api/queue/add", json={"episode_ids": [*ids[:3], ids[0]], "priority": 0})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["added"] == 3 and body["already_queued"] == []
    again = await api.post("/api/queue/add", json={"episode_ids": ids[:4], "priority": 5})
    assert again.json()["added"] == 1 and again.json()["already_queued"] == ids[:3]

    status = (await api.get("/api/queue/status", params={"limit": 2})).json()
    assert status["state"] == "running" and status["paused"] is False
    assert status["counts"] == {
        "queued": 4,
        "downloading": 0,
        "completed": 0,
        "failed": 0,
        "cancelled": 0,
    }
    queued = status["queued"]
    assert queued["total"] == 4 and len(queued["items"]) == 2
    first = queued["items"][0]
    assert (first["episode_id"], first["priority"], first["series_key"]) == (ids[3], 5, "show")
    assert first["source_host"] == "media.example"
    page2 = (await api.get("/api/queue/status", params={"offset": 2, "limit": 2})).json()
    assert [i["episode_id"] for i in page2["queued"]["items"]] == [ids[1], ids[2]]


async def test_add_rejects_bad_input_and_queues_nothing(api, ctx_of) -> None:
    ids = await add_series(ctx_of.db, "show", [(1, 1, cand(1))])
    missing = await api.post("/api/queue/add", json={"episode_ids": [ids[0], 999_999]})
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no episode with id 999999; nothing was queued"
    both = await api.post("/api/queue/add", json={"episode_ids": ids, "series_key": "show"})
    assert both.status_code == 422
    neither = await api.post("/api/queue/add", json={"priority": 1})
    assert neither.status_code == 422
    empty = await api.post("/api/queue/add", json={"episode_ids": []})
    assert empty.status_code == 400 and empty.json()["detail"] == "no episode ids given"
    unknown = await api.post("/api/queue/add", json={"series_key": "nope", "missing": True})
    assert unknown.status_code == 404
    status = (await api.get("/api/queue/status")).json()
    assert status["counts"]["queued"] == 0


async def test_add_a_series_missing_episodes(api, ctx_of) -> None:
    future = date.today() + timedelta(days=30)
    ids = await add_series(ctx_of.db, "show", [(1, n, cand(n)) for n in range(1, 6)])
    async with ctx_of.db.write() as s:
        await s.execute(update(Episode).where(Episode.id == ids[0]).values(is_downloaded=True))
        await s.execute(update(Episode).where(Episode.id == ids[1]).values(monitored=False))
        await s.execute(update(Episode).where(Episode.id == ids[2]).values(air_date=future))
    resp = await api.post("/api/queue/add", json={"series_key": "show", "missing": True})
    assert resp.status_code == 201
    assert resp.json()["added"] == 2
    status = (await api.get("/api/queue/status")).json()
    assert sorted(i["episode_id"] for i in status["queued"]["items"]) == ids[3:]
    everything = await api.post("/api/queue/add", json={"series_key": "show", "missing": False})
    assert everything.json()["added"] == 2  # the unmonitored and the future one
    assert sorted(everything.json()["already_queued"]) == ids[3:]


async def test_delete_cancels_active_then_removes_finished(api, ctx_of) -> None:
    ids = await add_series(ctx_of.db, "show", [(1, 1, cand(1)), (1, 2, cand(2))])
    items = (await api.post("/api/queue/add", json={"episode_ids": ids})).json()["item_ids"]
    [claimed] = await claim.claim_batch(ctx_of.db, owner="elsewhere", limit=1)
    assert claimed.id == items[0]
    first = await api.delete(f"/api/queue/{items[0]}")
    assert first.json() == {"id": items[0], "action": "cancelled"}
    assert not await finish.complete(
        ctx_of.db, claimed.id, owner="elsewhere", file_path="x", size=1
    )
    second = await api.delete(f"/api/queue/{items[0]}")
    assert second.json() == {"id": items[0], "action": "removed"}
    gone = await api.delete(f"/api/queue/{items[0]}")
    assert gone.status_code == 404 and "not found" in gone.json()["detail"]
    status = (await api.get("/api/queue/status")).json()
    assert status["counts"]["cancelled"] == 0 and status["counts"]["queued"] == 1


async def test_state_commands_persist(api, ctx_of, settings) -> None:
    for command, state in [
        ("pause", "paused"),
        ("resume", "running"),
        ("stop", "stopped"),
        ("start", "running"),
        ("pause", "paused"),
    ]:
        resp = await api.post(f"/api/queue/{command}")
        assert resp.status_code == 200 and resp.json() == {"state": state}
    status = (await api.get("/api/queue/status")).json()
    assert status["state"] == "paused" and status["paused"] is True
    async with ctx_of.db.session() as s:
        stored = await s.scalar(
            select(SystemSetting.value).where(SystemSetting.key == "queue_state")
        )
    assert stored["state"] == "paused"
    other = Database(settings.database_url)  # another process (or a restart) sees it
    try:
        assert await control.get_state(other) == "paused"
    finally:
        await other.dispose()


async def test_retry_and_clear(api, ctx_of) -> None:
    ids = await add_series(ctx_of.db, "show", [(1, n, cand(n)) for n in range(1, 4)])
    items = (await api.post("/api/queue/add", json={"episode_ids": ids})).json()["item_ids"]
    claims = await claim.claim_batch(ctx_of.db, owner="w", limit=3)
    await finish.complete(ctx_of.db, claims[0].id, owner="w", file_path="a.mp4", size=3)
    for claimed in claims[1:]:
        await finish.fail(ctx_of.db, claimed.id, owner="w", error="boom", permanent=True)
    status = (await api.get("/api/queue/status")).json()
    assert status["counts"]["failed"] == 2 and status["counts"]["completed"] == 1
    assert {i["last_error"] for i in status["failed"]} == {"boom"}

    one = await api.post("/api/queue/retry", json={"item_ids": [items[1], items[0]]})
    assert one.json() == {"retried": [items[1]]}  # a completed item is not retried
    rest = await api.post("/api/queue/retry")
    assert rest.json() == {"retried": [items[2]]}
    assert (await api.post("/api/queue/retry")).json() == {"retried": []}

    cleared = await api.delete("/api/queue/completed")
    assert cleared.json() == {"removed": 1}
    status = (await api.get("/api/queue/status")).json()
    assert status["counts"]["completed"] == 0 and status["counts"]["queued"] == 2
    queued = status["queued"]["items"]
    assert all(i["attempts"] == 0 and i["last_error"] is None for i in queued)


async def test_unknown_item_in_path_is_a_clear_error(api) -> None:
    resp = await api.delete("/api/queue/12345")
    assert resp.status_code == 404
    assert resp.json() == {"detail": "queue item 12345 not found; see `showkeeper queue ls`"}


async def test_enqueue_missing_for_the_whole_library(ctx_of) -> None:
    from showkeeper.downloads.service import enqueue_missing
    from showkeeper.downloads.worker import WorkerPool

    assert ctx_of.service(WorkerPool) is None  # download_workers_in_server off
    await add_series(ctx_of.db, "one", [(1, n, cand(n)) for n in (1, 2)])
    await add_series(ctx_of.db, "two", [(1, 1, cand(9))])
    await add_series(ctx_of.db, "off", [(1, 1, cand(8))], monitored=False)
    events = ctx_of.bus.subscribe(types={"queue_status"})
    assert await enqueue_missing(ctx_of, series_key="two") == 1
    assert await enqueue_missing(ctx_of) == 2  # "one"; "two" is queued, "off" unmonitored
    assert await enqueue_missing(ctx_of) == 0
    added = [e.data for e in (events.get_nowait(), events.get_nowait())]
    assert [len(d["item_ids"]) for d in added] == [1, 2]
    assert events.get_nowait() is None  # nothing queued, nothing announced
