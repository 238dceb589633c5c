from typing import Any

import httpx

from showkeeper.config import Settings
from showkeeper.db.models import Episode, QueueItem, Series


async def seed(app: Any, n_series: int = 3) -> None:
    """Series s0..s{n-1}: s_i has i+2 episodes, i+1 of them downloaded... see counts below."""
    async with app.state.ctx.db.write() as s:
        for i in range(n_series):
            series = Series(
                key=f"s{i}", folder=f"Show {i} (2020)", name=f"Show {chr(67 - i)}", year=2020 + i
            )
            s.add(series)
            await s.flush()
            # episode 1 downloaded, episode 2 missing, episode 3 unmonitored, episode 4 only on disk
            s.add_all(
                [
                    Episode(series_id=series.id, season=1, episode=1, is_downloaded=True),
                    Episode(series_id=series.id, season=1, episode=2),
                    Episode(series_id=series.id, season=1, episode=3, monitored=False),
                    Episode(
                        series_id=series.id,
                        season=1,
                        episode=4,
                        at_source=False,
                        is_downloaded=True,
                    ),
                ]
            )
            if i == 0:  # s0 has one more missing episode
                s.add(Episode(series_id=series.id, season=2, episode=1))


async def test_list_counts_paging_sorting_and_filters(api: httpx.AsyncClient, app: Any) -> None:
    await seed(app)
    page = (await api.get("/api/series")).json()
    assert page["total"] == 3 and page["page"] == 1
    assert [i["name"] for i in page["items"]] == ["Show A", "Show B", "Show C"]
    by_key = {i["key"]: i for i in page["items"]}
    assert by_key["s0"]["missing_count"] == 2 and by_key["s0"]["episode_count"] == 5
    assert by_key["s1"]["missing_count"] == 1
    assert by_key["s1"]["downloaded_count"] == 2

    two = (await api.get("/api/series", params={"page_size": 2, "page": 2})).json()
    assert [i["key"] for i in two["items"]] == ["s0"] and two["total"] == 3
    desc = (await api.get("/api/series", params={"sort": "year", "order": "desc"})).json()
    assert [i["key"] for i in desc["items"]] == ["s2", "s1", "s0"]
    most = (
        await api.get("/api/series", params={"sort": "missing", "order": "desc", "page_size": 1})
    ).json()
    assert most["items"][0]["key"] == "s0" and most["total"] == 3
    found = (await api.get("/api/series", params={"q": "show b"})).json()
    assert [i["key"] for i in found["items"]] == ["s1"]

    await api.patch("/api/series/s2", json={"monitored": False})
    mon = (await api.get("/api/series", params={"monitored": True})).json()
    assert {i["key"] for i in mon["items"]} == {"s0", "s1"}
    async with app.state.ctx.db.write() as s:
        from sqlalchemy import update

        await s.execute(update(Episode).values(is_downloaded=True))
    none_missing = (await api.get("/api/series", params={"has_missing": True})).json()
    assert none_missing["total"] == 0

    bad = await api.get("/api/series", params={"sort": "nonsense"})
    assert bad.status_code == 422


async def test_get_by_key_or_folder(api: httpx.AsyncClient, app: Any) -> None:
    await seed(app, 1)
    by_key = (await api.get("/api/series/s0")).json()
    assert by_key["name"] == "Show C" and len(by_key["episodes"]) == 5
    assert [(e["season"], e["episode"]) for e in by_key["episodes"]][:2] == [(1, 1), (1, 2)]
    by_folder = await api.get("/api/series/Show 0 (2020)")
    assert by_folder.status_code == 200 and by_folder.json()["key"] == "s0"
    missing = await api.get("/api/series/nope")
    assert missing.status_code == 404 and "GET /api/series" in missing.json()["detail"]


async def test_patch_filters_are_validated(api: httpx.AsyncClient, app: Any) -> None:
    await seed(app, 1)
    ok = await api.patch(
        "/api/series/s0",
        json={
            "options": {
                "include": "^Part",
                "exclude": "trailer",
                "not_before": "2024-01-01",
                "min_duration_s": 60,
            }
        },
    )
    assert ok.status_code == 200, ok.text
    opts = ok.json()["options"]
    assert opts == {
        "include": "^Part",
        "exclude": "trailer",
        "not_before": "2024-01-01",
        "min_duration_s": 60,
    }
    cleared = await api.patch("/api/series/s0", json={"options": {"include": None}})
    assert (
        "include" not in cleared.json()["options"]
        and cleared.json()["options"]["exclude"] == "trailer"
    )
    bad = await api.patch("/api/series/s0", json={"options": {"exclude": "(unclosed"}})
    assert bad.status_code == 400 and "exclude" in bad.json()["detail"]
    assert (await api.get("/api/series/s0")).json()["options"]["exclude"] == "trailer"  # unchanged
    bad_range = await api.patch("/api/series/s0", json={"options": {"max_duration_s": 10}})
    assert bad_range.status_code == 400


async def test_delete_with_and_without_files(
    api: httpx.AsyncClient, app: Any, settings: Settings
) -> None:
    await seed(app, 2)
    folder = settings.library_dir / "Show 0 (2020)"
    (folder / "Season 01").mkdir(parents=True)
    (folder / "Season 01" / "e1.mkv").write_bytes(b"x")
    other = settings.library_dir / "Show 1 (2021)"
    other.mkdir()
    async with app.state.ctx.db.write() as s:
        from sqlalchemy import select

        ep = (await s.execute(select(Episode).limit(1))).scalar_one()
        s.add(QueueItem(episode_id=ep.id))

    resp = await api.delete("/api/series/s1")
    assert resp.json() == {"deleted": "s1", "files_deleted": False}
    assert other.is_dir()
    resp = await api.delete("/api/series/s0", params={"delete_files": True})
    assert resp.json() == {"deleted": "s0", "files_deleted": True}
    assert not folder.exists() and list(settings.library_dir.iterdir()) == [other]
    assert (await api.get("/api/series")).json()["total"] == 0
    async with app.state.ctx.db.session() as s:
        from sqlalchemy import func, select

        assert (await s.execute(select(func.count()).select_from(QueueItem))).scalar_one() == 0


async def test_delete_never_leaves_the_library(
    api: httpx.AsyncClient, app: Any, settings: Settings, tmp_path: Any
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    (settings.library_dir / "Evil").symlink_to(outside)
    async with app.state.ctx.db.write() as s:
        s.add(Series(key="evil", folder="Evil", name="Evil"))
    resp = await api.delete("/api/series/evil", params={"delete_files": True})
    assert resp.status_code == 400 and "not inside the library" in resp.json()["detail"]
    assert (outside / "keep.txt").read_text() == "keep"
    assert (await api.get("/api/series/evil")).status_code == 200  # nothing deleted
