"""Kept v3 answers never outlive a change: edits through the native API (no event), the
queue, and v3 writes are seen by the next ask."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from showkeeper.db.models import Episode, Series
from showkeeper.web.arr.cache import ResponseCache


async def test_next_ask_sees_every_change(api: httpx.AsyncClient, app: Any) -> None:
    async with app.state.ctx.db.write() as s:
        series = Series(key="fresh", folder="Fresh", name="Fresh", source_kind="feed")
        s.add(series)
        await s.flush()
        s.add_all(
            [
                Episode(
                    series_id=series.id,
                    season=1,
                    episode=n,
                    air_date=date(2024, 1, n),
                    candidates=[{"url": f"http://127.0.0.1:9/{n}.mp4"}],
                )
                for n in (1, 2)
            ]
        )
        series_id = series.id
    cache = app.state.ctx.service(ResponseCache)

    async def listed() -> dict[str, Any]:
        (only,) = (await api.get("/api/v3/series")).json()
        return only

    async def missing() -> int:
        return int((await api.get("/api/v3/wanted/missing")).json()["totalRecords"])

    assert (await listed())["monitored"] is True and await missing() == 2
    computed = cache.computed
    assert (await listed())["monitored"] is True and await missing() == 2
    assert cache.computed == computed  # kept while nothing changed

    # the native API publishes no event: the database files tell
    assert (await api.patch("/api/series/fresh", json={"monitored": False})).status_code == 200
    assert (await listed())["monitored"] is False and await missing() == 0
    assert (await api.patch("/api/series/fresh", json={"monitored": True})).status_code == 200
    assert await missing() == 2

    # queueing takes episodes out of "missing" (queue_status event and a commit)
    added = await api.post("/api/queue/add", json={"series_key": "fresh"})
    assert added.status_code == 201, added.text
    assert await missing() == 0
    # a v3 write
    tag = (await api.post("/api/v3/tag", json={"label": "new"})).json()
    series = await listed()
    series["tags"] = [tag["id"]]
    assert (await api.put(f"/api/v3/series/{series_id}", json=series)).status_code == 202
    assert (await listed())["tags"] == [tag["id"]]
