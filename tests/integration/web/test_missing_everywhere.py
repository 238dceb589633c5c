"""One definition of "missing": every reader counts the same episodes.

The library's missing list, the series list's and a series' missing_count, the Prometheus
gauge, `showkeeper missing`'s source (missing_episodes) and the auto-download job agree on a
library with every kind of episode that is not missing beside the ones that are.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from showkeeper.db.models import Episode, QueueItem, Series
from showkeeper.downloads.service import enqueue_missing
from showkeeper.series.missing import missing_episodes
from tests.integration.library.helpers import Ep, add_series


async def _seed(ctx: Any) -> None:
    today = datetime.now(UTC).date()
    past, future = today - timedelta(days=30), today + timedelta(days=30)
    await add_series(
        ctx.db,
        "show",
        "Show",
        [
            Ep(1, 1, past),  # missing
            Ep(1, 2, None),  # missing: no air date counts as aired
            Ep(1, 3, future),  # not aired
            Ep(1, 4, past, monitored=False),  # unmonitored episode
            Ep(1, 5, past),  # queued below
            Ep(1, 6, past),  # filtered out below
            Ep(1, 7, past, at_source=False),  # only on disk
            Ep(1, 8, past),  # downloaded below
            Ep(1, 9, past),  # ignored below (a retention rule removed it)
        ],
    )
    await add_series(ctx.db, "paused", "Paused", [Ep(1, 1, past)], monitored=False)
    async with ctx.db.write() as s:
        eps = {
            (e.season, e.episode): e
            for e in (await s.scalars(select(Episode).join(Series).where(Series.key == "show")))
        }
        eps[(1, 6)].filtered = True
        eps[(1, 8)].is_downloaded = True
        eps[(1, 9)].ignored = True
        s.add(QueueItem(episode_id=eps[(1, 5)].id, status="queued"))
        s.add(QueueItem(episode_id=eps[(1, 3)].id, status="failed", last_error="HTTP 404"))
        for ep in eps.values():  # every episode can be downloaded
            ep.candidates = [{"url": f"http://127.0.0.1:9/{ep.episode}.mp4", "kind": "direct"}]


async def test_every_reader_counts_the_same_missing_episodes(
    api: httpx.AsyncClient, app: Any
) -> None:
    ctx = app.state.ctx
    await _seed(ctx)
    expected = [("show", 1, 1), ("show", 1, 2)]

    listed = await missing_episodes(ctx.db)
    assert [(m.series_key, m.season, m.episode) for m in listed] == expected

    body = (await api.get("/api/library/missing")).json()
    assert [(i["series_key"], i["season"], i["episode"]) for i in body["items"]] == expected

    page = (await api.get("/api/series", params={"sort": "missing", "order": "desc"})).json()
    counts = {s["key"]: s["missing_count"] for s in page["items"]}
    assert counts == {"show": 2, "paused": 0}
    by_name = (await api.get("/api/series")).json()  # the per-page counting path
    assert {s["key"]: s["missing_count"] for s in by_name["items"]} == counts
    with_missing = (await api.get("/api/series", params={"has_missing": True})).json()
    assert [s["key"] for s in with_missing["items"]] == ["show"]

    detail = (await api.get("/api/series/show")).json()
    assert detail["missing_count"] == 2
    assert detail["episode_count"] == 9
    assert [e["episode"] for e in detail["episodes"] if e["ignored"]] == [9]
    assert [e["filtered"] for e in detail["episodes"]].count(True) == 1
    states = [(e["episode"], e["state"], e["state_reason"]) for e in detail["episodes"]]
    assert states == [
        (1, "missing", None),
        (2, "missing", None),
        (3, "failed", "HTTP 404"),  # not aired yet, but its last download failed: shown
        (4, "unmonitored", None),
        (5, "queued", None),
        (6, "filtered", None),
        (7, "unmonitored", None),  # known only from disk, and gone from it
        (8, "on_disk", None),
        (9, "ignored", None),
    ]

    metrics = (await api.get("/metrics")).text
    gauge = re.search(r"^showkeeper_episodes_missing (\S+)$", metrics, re.M)
    assert gauge is not None and float(gauge.group(1)) == 2

    assert await enqueue_missing(ctx) == 2
    # queued now, so missing by no reader any more
    assert await missing_episodes(ctx.db) == []
    detail = (await api.get("/api/series/show")).json()
    assert detail["missing_count"] == 0
    assert [e["state"] for e in detail["episodes"]][:2] == ["queued", "queued"]
    metrics = (await api.get("/metrics")).text
    assert re.search(r"^showkeeper_episodes_missing 0\.0$", metrics, re.M)
