"""The Sonarr v3 routes' queries on PostgreSQL: statistics, missing pages, tags, monitoring,
history, the iCal feed; answers still fit Sonarr's schemas."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest
from icalendar import Calendar

from showkeeper.config import Settings
from showkeeper.db.models import DownloadHistory, Episode, Series
from tests.compat.sonarr import check_response
from tests.conftest import complete_setup
from tests.pg import fresh_pg_database


async def seed(app: object) -> tuple[int, list[int]]:
    async with app.state.ctx.db.write() as s:  # type: ignore[attr-defined]
        series = Series(key="pg-show", folder="PG Show", name="PG Show", source_kind="feed")
        s.add(series)
        await s.flush()
        episodes = [
            Episode(
                series_id=series.id,
                season=1 + n // 3,
                episode=1 + n % 3,
                title=f"E{n}",
                air_date=date(2024, 1, 1 + n) if n < 5 else date(2099, 1, 1),
                is_downloaded=n % 2 == 0,
                size=100 if n % 2 == 0 else None,
                file_path=f"PG Show/e{n}.mp4" if n % 2 == 0 else None,
            )
            for n in range(6)
        ]
        s.add_all(episodes)
        await s.flush()
        s.add(
            DownloadHistory(
                episode_id=episodes[0].id,
                series_key="pg-show",
                season=1,
                episode=1,
                status="completed",
                finished_at=datetime.now(UTC),
            )
        )
        return series.id, [e.id for e in episodes]


@pytest.mark.postgres
async def test_v3_on_postgres(settings: Settings) -> None:
    from showkeeper.web.app import create_app

    async with fresh_pg_database() as url:
        app = create_app(settings.model_copy(update={"database_url": url}))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
                api.headers["X-Api-Key"] = await complete_setup(api, settings.library_dir)
                series_id, ids = await seed(app)

                async def get(path: str, **params: object) -> object:
                    resp = await api.get(path, params=params)
                    assert resp.status_code == 200, (path, resp.text)
                    check_response("GET", path, 200, resp.json())
                    return resp.json()

                (series,) = await get("/api/v3/series")
                stats = series["statistics"]
                assert (stats["episodeFileCount"], stats["totalEpisodeCount"]) == (3, 6)
                assert stats["episodeCount"] == 5 and stats["sizeOnDisk"] == 300
                assert series["nextAiring"] == "2099-01-01T00:00:00Z"
                missing = await get("/api/v3/wanted/missing", includeSeries="true")
                assert [r["title"] for r in missing["records"]] == ["E3", "E1"]
                assert missing["records"][0]["series"]["id"] == series_id
                tag = (await api.post("/api/v3/tag", json={"label": "PG"})).json()
                series["tags"] = [tag["id"]]
                series["seasons"][1]["monitored"] = False
                edited = await api.put(f"/api/v3/series/{series_id}", json=series)
                assert edited.status_code == 202 and edited.json()["tags"] == [tag["id"]]
                assert [s["monitored"] for s in edited.json()["seasons"]] == [True, False]
                assert (await get("/api/v3/wanted/missing"))["totalRecords"] == 1
                unmonitored = await get("/api/v3/wanted/missing", monitored="false")
                assert [r["title"] for r in unmonitored["records"]] == ["E3"]
                monitor = await api.put(
                    "/api/v3/episode/monitor", json={"episodeIds": ids[:2], "monitored": False}
                )
                assert monitor.status_code == 202
                await get("/api/v3/episode", seriesId=series_id)
                history = await get("/api/v3/history", includeSeries="true")
                assert history["records"][0]["series"]["id"] == series_id
                assert len(await get("/api/v3/history/series", seriesId=series_id)) == 1
                calendar = await get("/api/v3/calendar", start="2024-01-01", end="2024-01-31")
                assert [e["title"] for e in calendar] == ["E2"]  # E0, E1 and season 2 unmonitored
                feed = await api.get(
                    "/feed/v3/calendar/showkeeper.ics",
                    params={"pastDays": 3650, "unmonitored": "true"},
                )
                assert len(list(Calendar.from_ical(feed.content).walk("VEVENT"))) == 5
                assert (await api.delete(f"/api/v3/tag/{tag['id']}")).status_code == 200
                assert (await get(f"/api/v3/series/{series_id}"))["tags"] == []
