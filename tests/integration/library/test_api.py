"""The library routes through the real app (lifespan, auth, events)."""

import asyncio
import shutil
from pathlib import Path
from typing import Any

from showkeeper.events import Event, Subscription
from showkeeper.library.lock import ScanLease
from tests.integration.library.helpers import Ep, add_series
from tests.unit.library.trees import make_tree


async def next_event(sub: Subscription, *types: str) -> Event:
    async def wait() -> Event:
        async for event in sub:
            if event.type in types:
                return event
        raise AssertionError("bus closed")

    return await asyncio.wait_for(wait(), timeout=20)


async def test_rescan_answers_202_and_reports_by_events(
    app: Any, api: Any, library_dir: Path
) -> None:
    ctx = app.state.ctx
    await add_series(ctx.db, "show", "Show", [Ep(1, 1), Ep(1, 2)])
    make_tree(library_dir, ["Show/Show S01E01.mkv", "Show/Extra clip.mkv", "Nobody/N S01E01.mkv"])
    with ctx.bus.subscribe(types={"scan_progress", "scan_complete", "scan_failed"}) as sub:
        resp = await api.post("/api/series/rescan")
        assert resp.status_code == 202
        body = resp.json()
        assert body["status"] == "started" and body["series_key"] is None
        progress = await next_event(sub, "scan_progress")
        assert progress.data["scan_id"] == body["scan_id"] and progress.data["total"] == 2
        done = await next_event(sub, "scan_complete", "scan_failed")
    assert done.type == "scan_complete" and done.data["scan_id"] == body["scan_id"]
    assert done.data["episodes_found"] == 1 and done.data["unmapped"] == 1

    missing = (await api.get("/api/library/missing")).json()
    assert missing["total"] == 1 and missing["items"][0]["episode"] == 2
    assert (await api.get("/api/library/missing", params={"series_key": "show"})).json()[
        "total"
    ] == 1
    unmapped = (await api.get("/api/library/unmapped")).json()
    assert [(i["name"], i["path"]) for i in unmapped["items"]] == [
        ("Nobody", str(library_dir / "Nobody"))
    ]
    unparsed = (await api.get("/api/library/unparsed")).json()
    assert unparsed["total"] == 1
    assert unparsed["items"][0]["relative_path"] == "Show/Extra clip.mkv"
    assert unparsed["items"][0]["path"] == str(library_dir / "Show/Extra clip.mkv")
    page = (await api.get("/api/library/unparsed", params={"limit": 1, "offset": 1})).json()
    assert page == {"total": 1, "items": []}


async def test_rescan_of_one_series(app: Any, api: Any, library_dir: Path) -> None:
    ctx = app.state.ctx
    await add_series(ctx.db, "show", "Show", [Ep(1, 1)])
    make_tree(library_dir, ["Show/Show S01E01.mkv"])
    with ctx.bus.subscribe(types={"scan_complete", "scan_failed"}) as sub:
        resp = await api.post("/api/series/rescan", json={"series_key": "show"})
        assert resp.status_code == 202 and resp.json()["series_key"] == "show"
        done = await next_event(sub, "scan_complete", "scan_failed")
    assert done.type == "scan_complete"
    assert done.data["series_key"] == "show" and done.data["episodes_found"] == 1

    resp = await api.post("/api/series/rescan", json={"series_key": "nope"})
    assert resp.status_code == 404 and resp.json() == {"detail": "no series with key 'nope'"}
    resp = await api.get("/api/library/missing", params={"series_key": "nope"})
    assert resp.status_code == 404


async def test_a_second_rescan_while_one_runs_is_409(app: Any, api: Any) -> None:
    lease = await ScanLease.acquire(app.state.ctx.db, "running-elsewhere", series_key=None)
    try:
        resp = await api.post("/api/series/rescan", json={})
        assert resp.status_code == 409
        assert resp.json()["detail"].startswith("a scan is already running")
    finally:
        await lease.release()


async def test_scan_failed_event_and_missing_library(app: Any, api: Any, library_dir: Path) -> None:
    ctx = app.state.ctx
    make_tree(library_dir, ["Show/Show S01E01.mkv"])
    with ctx.bus.subscribe(types={"scan_complete", "scan_failed"}) as sub:
        assert (await api.post("/api/series/rescan")).status_code == 202
        assert (await next_event(sub, "scan_complete", "scan_failed")).type == "scan_complete"
        shutil.rmtree(library_dir / "Show")  # the library looks like an unmounted drive now
        assert (await api.post("/api/series/rescan")).status_code == 202
        failed = await next_event(sub, "scan_complete", "scan_failed")
    assert failed.type == "scan_failed" and "is the drive mounted" in failed.data["error"]

    library_dir.rmdir()
    resp = await api.post("/api/series/rescan")
    assert resp.status_code == 409 and "does not exist" in resp.json()["detail"]
    health = (await api.get("/health")).json()
    assert health["status"] == "unhealthy"
