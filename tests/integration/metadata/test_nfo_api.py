"""The /api/nfo/* endpoints and the post-download hook, through the real app."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from showkeeper.metadata.nfo import read_nfo

from .seed import seed_series


async def _wait_for(path: Path, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if path.is_file():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{path} did not appear")


async def test_get_and_write_series_nfos(app: Any, api: Any, library_dir: Path) -> None:
    await seed_series(app.state.ctx.db, library_dir)
    before = await api.get("/api/nfo/series/example-com-dark")
    assert before.status_code == 200, before.text
    assert before.json()["tvshow"] is None
    assert [e["nfo"] for e in before.json()["episodes"]] == [False, False]

    written = await api.post("/api/nfo/series/example-com-dark", json={"overwrite": False})
    assert written.status_code == 200, written.text
    assert written.json() | {"messages": []} == {
        "series_key": "example-com-dark",
        "written": 3,
        "skipped": 0,
        "errors": 0,
        "messages": [],
    }
    after = (await api.get("/api/nfo/series/example-com-dark")).json()
    assert after["folder"] == "Dark (2017)"
    assert after["tvshow"]["uniqueids"] == {"showkeeper": "example-com-dark"}
    assert after["tvshow"]["ours"] is True
    assert [(e["season"], e["episode"], e["nfo"]) for e in after["episodes"]] == [
        (1, 1, True),
        (1, 2, True),
    ]
    no_body = await api.post("/api/nfo/series/example-com-dark")
    assert no_body.status_code == 200 and no_body.json()["skipped"] == 3


async def test_unknown_series_and_bad_body(api: Any) -> None:
    for resp in (
        await api.get("/api/nfo/series/missing-show"),
        await api.post("/api/nfo/series/missing-show", json={}),
    ):
        assert resp.status_code == 404
        assert "series 'missing-show' not found" in resp.json()["detail"]
    bad = await api.post("/api/nfo/series/missing-show", json={"overwrite": "sometimes"})
    assert bad.status_code == 422


async def test_broken_tvshow_nfo_is_reported(app: Any, api: Any, library_dir: Path) -> None:
    await seed_series(app.state.ctx.db, library_dir)
    (library_dir / "Dark (2017)/tvshow.nfo").write_bytes(b"<!DOCTYPE x><tvshow/>")
    body = (await api.get("/api/nfo/series/example-com-dark")).json()
    assert body["tvshow"] is None and "DOCTYPE" in body["tvshow_error"]


async def test_repair_runs_in_background(app: Any, api: Any, library_dir: Path) -> None:
    eps = await seed_series(app.state.ctx.db, library_dir)
    resp = await api.post("/api/nfo/repair")
    assert resp.status_code == 202 and resp.json() == {"status": "started"}
    await _wait_for(library_dir / eps[(1, 2)][1].replace(".mp4", ".nfo"))
    await _wait_for(library_dir / "Dark (2017)/tvshow.nfo")


async def test_download_complete_writes_nfos(app: Any, library_dir: Path) -> None:
    ctx = app.state.ctx
    eps = await seed_series(ctx.db, library_dir, episodes=((1, 1), (1, 3)))
    episode_id, rel = eps[(1, 3)]
    # A broken event first: logged, and the service goes on.
    ctx.bus.publish("download_complete", item_id=98, episode_id=987654, file_path="x.mp4")
    ctx.bus.publish(
        "download_complete",
        item_id=99,
        episode_id=episode_id,
        series_key="example-com-dark",
        season=1,
        episode=3,
        title="Part 3",
        file_path=rel,
        size=4,
        method="direct",
    )
    nfo = library_dir / rel.replace(".mp4", ".nfo")
    await _wait_for(nfo)
    await _wait_for(library_dir / "Dark (2017)/tvshow.nfo")
    assert read_nfo(nfo)["episode"] == 3
    # Only the completed episode got its NFO.
    assert not (library_dir / eps[(1, 1)][1].replace(".mp4", ".nfo")).exists()
