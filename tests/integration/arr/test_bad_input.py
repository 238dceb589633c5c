"""Bad input to the Sonarr v3 routes: Sonarr's error shapes, 400/404, paging past the end,
capped page sizes, and nothing lost."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from showkeeper.db.models import Episode, Series
from tests.compat.sonarr import check_response


async def seed(app: Any) -> tuple[int, list[int]]:
    async with app.state.ctx.db.write() as s:
        series = Series(key="seeded", folder="Seeded", name="Seeded", source_kind="feed")
        s.add(series)
        await s.flush()
        episodes = [
            Episode(
                series_id=series.id, season=1, episode=n, title=f"E{n}", air_date=date(2024, 1, n)
            )
            for n in range(1, 4)
        ]
        s.add_all(episodes)
        await s.flush()
        return series.id, [e.id for e in episodes]


def is_error(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, (resp.request.url, resp.status_code, resp.text)
    body = resp.json()
    assert set(body) == {"message", "description"}, body
    return body


@pytest.mark.parametrize(
    "path",
    [
        "/api/v3/series/999",
        "/api/v3/episode/999",
        "/api/v3/episodefile/999",
        "/api/v3/tag/999",
        "/api/v3/command/999",
        "/api/v3/rootfolder/2",
        "/api/v3/qualityprofile/2",
        "/api/v3/languageprofile/2",
        "/api/v3/history/series?seriesId=999",
        "/api/v3/episode?seriesId=999",
    ],
)
async def test_unknown_ids_answer_404(api: httpx.AsyncClient, path: str) -> None:
    assert "999" in is_error(await api.get(path), 404)["message"] or "2" in path


async def test_unknown_ids_change_nothing(api: httpx.AsyncClient, app: Any) -> None:
    series_id, episode_ids = await seed(app)
    is_error(await api.delete("/api/v3/series/999"), 404)
    is_error(await api.delete("/api/v3/queue/999"), 404)
    is_error(await api.delete("/api/v3/tag/999"), 404)
    is_error(await api.delete("/api/v3/episodefile/999"), 404)
    is_error(await api.delete(f"/api/v3/episodefile/{episode_ids[0]}"), 404)  # no file
    is_error(await api.put("/api/v3/series/999", json={"monitored": False}), 404)
    body = is_error(
        await api.put(
            "/api/v3/episode/monitor",
            json={"episodeIds": [episode_ids[0], 999], "monitored": False},
        ),
        404,
    )
    assert "999" in body["message"]
    is_error(
        await api.put(f"/api/v3/series/{series_id}", json={"tags": [999], "monitored": False}), 404
    )
    series = (await api.get(f"/api/v3/series/{series_id}")).json()
    assert series["monitored"] is True and series["tags"] == []  # nothing half-applied
    episodes = (await api.get("/api/v3/episode", params={"seriesId": series_id})).json()
    assert all(e["monitored"] for e in episodes) and len(episodes) == 3


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v3/series/abc", "series_id"),
        ("/api/v3/wanted/missing?page=x", "page"),
        ("/api/v3/wanted/missing?monitored=maybe", "monitored"),
        ("/api/v3/wanted/missing?page=0", "page"),
        ("/api/v3/queue?pageSize=-5", "pageSize"),
        ("/api/v3/episode?seriesId=1.5", "seriesId"),
        ("/api/v3/history?sortDirection=sideways", "sortDirection"),
        ("/api/v3/series?tvdbId=99999999999", "tvdbId"),
    ],
)
async def test_wrong_types_answer_400(api: httpx.AsyncClient, path: str, field: str) -> None:
    resp = await api.get(path)
    assert resp.status_code == 400, resp.text
    (failure,) = resp.json()
    assert failure["propertyName"] == field and failure["errorMessage"]


async def test_bad_bodies_and_values(api: httpx.AsyncClient, app: Any) -> None:
    await seed(app)
    unknown = is_error(await api.post("/api/v3/command", json={"name": "Reboot"}), 400)
    for known in ("SeriesSearch", "EpisodeSearch", "MissingEpisodeSearch", "RssSync"):
        assert known in unknown["message"]
    assert (await api.post("/api/v3/command", json={})).status_code == 400
    assert (await api.post("/api/v3/command", content=b"{not json")).status_code == 400
    is_error(await api.post("/api/v3/command", json={"name": "SeriesSearch", "seriesId": 999}), 404)
    is_error(await api.post("/api/v3/command", json={"name": "EpisodeSearch"}), 400)
    is_error(await api.post("/api/v3/command", json={"name": "SeriesSearch"}), 400)
    is_error(
        await api.post("/api/v3/command", json={"name": "EpisodeSearch", "episodeIds": [999]}),
        404,
    )
    is_error(await api.post("/api/v3/series", json={"title": "x"}), 400)
    is_error(await api.post("/api/v3/series", json={"sourceUrl": "gopher://x/feed"}), 400)
    is_error(await api.post("/api/v3/series", json={"sourceUrl": "file:///etc/passwd"}), 400)
    unknown_tag = {"sourceUrl": "http://127.0.0.1:9/feed.xml", "tags": [999]}
    is_error(await api.post("/api/v3/series", json=unknown_tag), 404)
    assert len((await api.get("/api/v3/series")).json()) == 1  # only the seeded one
    assert (await api.post("/api/v3/tag", json={"label": ""})).status_code == 400
    is_error(await api.post("/api/v3/tag", json={"label": "   "}), 400)
    is_error(await api.get("/api/v3/calendar", params={"start": "yesterday"}), 400)
    is_error(
        await api.get("/api/v3/calendar", params={"start": "2024-02-01", "end": "2024-01-01"}), 400
    )
    assert (await api.put("/api/v3/episode/monitor", json={"episodeIds": []})).status_code == 400
    bulk = await api.request("DELETE", "/api/v3/queue/bulk", json={"ids": "all"})
    assert bulk.status_code == 400
    is_error(await api.get("/api/v3/episode"), 404)
    assert (await api.get("/api/v3/series/lookup")).status_code == 400
    assert (await api.get("/api/v3/series/lookup", params={"term": "tvdb:81189"})).json() == []


async def test_paging_past_the_end_and_capped_sizes(api: httpx.AsyncClient, app: Any) -> None:
    await seed(app)
    for path in ("/api/v3/wanted/missing", "/api/v3/queue", "/api/v3/history"):
        beyond = await api.get(path, params={"page": 999, "pageSize": 50})
        assert beyond.status_code == 200
        body = beyond.json()
        assert body["records"] == [] and body["page"] == 999
        check_response("GET", path, 200, body)
        huge = (await api.get(path, params={"pageSize": 10**9})).json()
        assert huge["pageSize"] == 1000
    missing = (await api.get("/api/v3/wanted/missing", params={"pageSize": 2})).json()
    assert missing["totalRecords"] == 3 and len(missing["records"]) == 2
    second = (await api.get("/api/v3/wanted/missing", params={"pageSize": 2, "page": 2})).json()
    assert [r["episodeNumber"] for r in second["records"]] == [1]
    ascending = (
        await api.get(
            "/api/v3/wanted/missing",
            params={"sortKey": "airDateUtc", "sortDirection": "ascending", "pageSize": 3},
        )
    ).json()
    assert [r["episodeNumber"] for r in ascending["records"]] == [1, 2, 3]
    unmonitored = (await api.get("/api/v3/wanted/missing", params={"monitored": "false"})).json()
    assert unmonitored["totalRecords"] == 0
