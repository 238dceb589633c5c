"""Every page through the real app: renders with no series, with hostile titles, and its parts
(htmx partials) are the same markup the page holds."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from showkeeper.db.models import DownloadHistory, Episode, QueueItem, Series

PAGES = ["/", "/wanted", "/queue", "/history", "/add", "/settings", "/system"]
HOSTILE = '"><img src=x onerror=alert(1)><script>alert(2)</script>'


async def seed_hostile(app: Any) -> None:
    async with app.state.ctx.db.write() as s:
        series = Series(
            key="evil",
            folder="Evil (2020)",
            name=HOSTILE + "x" * 400,  # a series name is at most 500 characters
            year=2020,
            source_kind="feed",
            source_url="javascript:alert(3)",
            overview="<b>bold</b>\x07\x1b control",  # (PostgreSQL refuses NUL in text)
        )
        s.add(series)
        await s.flush()
        eps = [
            Episode(series_id=series.id, season=1, episode=1, title=HOSTILE, is_downloaded=True),
            Episode(
                series_id=series.id,
                season=1,
                episode=2,
                title="עברית שלום " + "y" * 5000,
                candidates=[{"url": "http://127.0.0.1:9/y.mp4"}],
            ),
            Episode(series_id=series.id, season=1, episode=3, title="filtered", filtered=True),
            Episode(
                series_id=series.id,
                season=1,
                episode=4,
                title="failing",
                candidates=[{"url": "http://127.0.0.1:9/x.mp4"}],
            ),
        ]
        s.add_all(eps)
        await s.flush()
        s.add(
            QueueItem(
                episode_id=eps[3].id, status="failed", last_error=HOSTILE + " connection refused"
            )
        )
        s.add(
            DownloadHistory(
                episode_id=eps[3].id,
                series_key="evil",
                season=1,
                episode=4,
                status="failed",
                error=HOSTILE,
                candidate_url="http://127.0.0.1:9/x.mp4",
                finished_at=datetime.now(UTC),
            )
        )


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_renders_with_no_series(api: httpx.AsyncClient, path: str) -> None:
    resp = await api.get(path)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/html")
    assert "<script>" not in resp.text.replace('<script src="', "")
    assert 'id="main"' in resp.text and 'aria-current="page"' in resp.text


async def test_library_empty_state_says_what_to_do(api: httpx.AsyncClient) -> None:
    html = (await api.get("/")).text
    assert "No series yet" in html and 'href="/add"' in html


async def test_hostile_titles_render_as_text(api: httpx.AsyncClient, app: Any) -> None:
    await seed_hostile(app)
    for path in [*PAGES, "/series/evil", "/history?status=failed", "/?view=table"]:
        html = (await api.get(path)).text
        assert "<img src=x" not in html, path
        assert "<script>alert" not in html, path
        assert 'href="javascript:' not in html, path
    series = (await api.get("/series/evil")).text
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in series
    assert "עברית שלום" in series
    assert "Filtered out" in series and "On disk" in series
    assert "connection refused" in series  # the failed episode's reason, inline
    assert "Retry" in series
    # the javascript: source URL is shown as text, never as a link
    assert "javascript:alert(3)" in series
    assert not re.search(r'href="[^"]*javascript', series)


async def test_library_filters_sort_paging_and_partials(api: httpx.AsyncClient, app: Any) -> None:
    async with app.state.ctx.db.write() as s:
        for i in range(60):
            row = Series(key=f"k{i:02d}", folder=f"F{i:02d}", name=f"Show {i:02d}", year=2000 + i)
            s.add(row)
            await s.flush()
            s.add(Episode(series_id=row.id, season=1, episode=1, is_downloaded=i % 2 == 0))
    first = (await api.get("/")).text
    assert "60 series" in first and "page 1 of 2" in first
    second = (await api.get("/", params={"page": 2})).text
    assert "Show 59" in second and "Show 00" not in second
    missing = (await api.get("/", params={"filter": "missing"})).text
    assert "30 series" in missing
    complete = (await api.get("/", params={"filter": "complete", "q": "show 0"})).text
    assert "5 series" in complete  # 00, 02, 04, 06, 08
    part = await api.get("/", params={"q": "show 1"}, headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert "<html" not in part.text and "10 series" in part.text
    table = await api.get("/", params={"view": "table"})
    assert "showkeeper_view=table" in table.headers.get("set-cookie", "")
    assert "<table" in table.text
    bad = await api.get("/", params={"sort": "nonsense"})
    assert bad.status_code == 422


async def test_series_page_unknown_key_is_404(api: httpx.AsyncClient) -> None:
    resp = await api.get("/series/nope")
    assert resp.status_code == 404


async def test_every_page_renders_with_2000_series(api: httpx.AsyncClient, app: Any) -> None:
    from sqlalchemy import insert

    now = datetime.now(UTC)
    async with app.state.ctx.db.write() as s:
        await s.execute(
            insert(Series),
            [
                {
                    "key": f"s{i:04d}",
                    "folder": f"S {i:04d}",
                    "name": f"Series {i:04d}",
                    "options": {},
                    "source_state": {},
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(2000)
            ],
        )
        await s.execute(
            insert(Episode),
            [
                {"series_id": sid, "season": 1, "episode": e, "candidates": []}
                for sid in range(1, 2001)
                for e in (1, 2)
            ],
        )
    for path in PAGES:
        resp = await api.get(path)
        assert resp.status_code == 200, (path, resp.text[:500])
    library = (await api.get("/")).text
    assert "2000 series" in library and "page 1 of 42" in library
    wanted = (await api.get("/wanted")).text
    assert "4000 missing episodes" in wanted and "page 1 of 40" in wanted
    last = (await api.get("/wanted", params={"page": 40})).text
    assert "Series 1999" in last
    # the pager keeps the other parameters and links both ways
    assert 'rel="next" href="/?sort=name&amp;order=asc&amp;page=2"' in library
    assert 'rel="prev" href="/wanted?page=39"' in last and 'rel="next"' not in last
    sorted_page = (await api.get("/", params={"sort": "year", "page": 2})).text
    assert 'rel="prev" href="/?sort=year&amp;order=asc&amp;page=1"' in sorted_page
    assert 'rel="next" href="/?sort=year&amp;order=asc&amp;page=3"' in sorted_page


@pytest.mark.postgres
async def test_pages_and_their_queries_on_postgres(settings: Any) -> None:
    from showkeeper.web.app import create_app
    from tests.conftest import complete_setup
    from tests.pg import fresh_pg_database

    async with fresh_pg_database() as url:
        app = create_app(settings.model_copy(update={"database_url": url}))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                client.headers["X-Api-Key"] = await complete_setup(client, settings.library_dir)
                await seed_hostile(app)
                for path in [*PAGES, "/series/evil", "/?filter=missing", "/?filter=loading"]:
                    resp = await client.get(path)
                    assert resp.status_code == 200, (path, resp.text[:500])
                series = (await client.get("/series/evil")).text
                assert "connection refused" in series and "Filtered out" in series
                history = (await client.get("/history", params={"status": "failed"})).text
                assert "1 downloads" in history
                queued = await client.post("/api/queue/add", json={"series_key": "evil"})
                assert queued.status_code == 201, queued.text
                ids = queued.json()["item_ids"]
                assert len(ids) == 2
                moved = await client.post(f"/api/queue/{ids[-1]}/move", json={"direction": "up"})
                assert moved.status_code == 200 and moved.json()["priority"] == 1
                scan = (await client.get("/api/library/scan")).json()
                assert scan["running"] is None and scan["last"] is not None


async def test_queue_move_up_and_down(api: httpx.AsyncClient, app: Any) -> None:
    async with app.state.ctx.db.write() as s:
        row = Series(key="m", folder="M", name="M")
        s.add(row)
        await s.flush()
        eps = [
            Episode(series_id=row.id, season=1, episode=n, candidates=[{"url": f"http://h/{n}"}])
            for n in (1, 2, 3)
        ]
        s.add_all(eps)
    ids = (await api.post("/api/queue/add", json={"series_key": "m"})).json()["item_ids"]

    async def order() -> list[int]:
        status = (await api.get("/api/queue/status")).json()
        return [i["id"] for i in status["queued"]["items"]]

    assert await order() == ids
    up = await api.post(f"/api/queue/{ids[2]}/move", json={"direction": "up"})
    assert up.json()["priority"] == 1
    assert await order() == [ids[2], ids[0], ids[1]]
    top = await api.post(f"/api/queue/{ids[2]}/move", json={"direction": "up"})
    assert top.json()["priority"] == 1  # first already: it stays
    down = await api.post(f"/api/queue/{ids[0]}/move", json={"direction": "down"})
    assert down.json()["priority"] == -1
    assert await order() == [ids[2], ids[1], ids[0]]
    bad = await api.post(f"/api/queue/{ids[0]}/move", json={"direction": "sideways"})
    assert bad.status_code == 422
    gone = await api.post("/api/queue/999999/move", json={"direction": "up"})
    assert gone.status_code == 400 and "not waiting" in gone.json()["detail"]
