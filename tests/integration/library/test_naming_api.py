"""Naming settings through the API: global and per-series templates, refusals, preview."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.integration.library.manage_support import downloaded_series


async def test_global_templates_are_validated_and_stored(api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/naming")).json()
    assert body["naming"] == body["defaults"]
    assert {"series", "air_date_compact", "quality", "source_id"} <= {
        f["name"] for f in body["fields"]
    }
    bad = await api.put("/api/naming", json={"episode": "../{series} {episode}"})
    assert bad.status_code == 400
    assert "episode: refused template" in bad.json()["detail"]
    assert "'/'" in bad.json()["detail"]
    unknown = await api.put("/api/naming", json={"season_folder": "Season {title}"})
    assert unknown.status_code == 400 and "{title}" in unknown.json()["detail"]
    assert (await api.get("/api/naming")).json()["naming"] == body["defaults"]  # nothing stored

    ok = await api.put(
        "/api/naming", json={"episode": "{series} {air_date} {title}", "season_folder": ""}
    )
    assert ok.status_code == 200, ok.text
    stored = (await api.get("/api/naming")).json()["naming"]
    assert stored["episode"] == "{series} {air_date} {title}" and stored["season_folder"] == ""


async def test_preview_renders_real_episodes(
    api: httpx.AsyncClient, app: Any, library_dir: Path
) -> None:
    ctx = app.state.ctx
    await downloaded_series(ctx.db, library_dir, "show", "Show", 3)
    resp = await api.post(
        "/api/naming/preview",
        json={"series_key": "show", "episode": "{series} {air_date_compact} {title}"},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert [i["path"] for i in body["items"]] == [
        f"Show/Season 01/Show 2020010{n + 1} Episode {n}.mkv" for n in (1, 2, 3)
    ]
    assert body["items"][0]["current"] == "Show/Season 01/Show - S01E01.mkv"
    assert body["collisions"] == []

    same = await api.post(
        "/api/naming/preview",
        json={"series_key": "show", "episode": "{series} {air_year}x{episode}"},
    )
    assert same.json()["collisions"] == []
    clash = await api.post(
        "/api/naming/preview",
        json={"series_key": "show", "episode": "{series} {absolute}", "limit": 2},
    )
    assert clash.status_code == 200
    # no absolute numbers: every name is refused for that episode, with the reason
    assert all(i["path"] is None and "no identifier" in i["error"] for i in clash.json()["items"])

    missing = await api.post("/api/naming/preview", json={"series_key": "nope"})
    assert missing.status_code == 404


async def test_series_override(api: httpx.AsyncClient, app: Any, library_dir: Path) -> None:
    await downloaded_series(app.state.ctx.db, library_dir, "show", "Show", 1)
    resp = await api.put(
        "/api/series/show/naming", json={"series_folder": "{series} [{source_id}]"}
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["override"]["series_folder"] == "{series} [{source_id}]"
    assert body["override"]["episode"] is None
    assert (
        body["effective"]["episode"] == (await api.get("/api/naming")).json()["naming"]["episode"]
    )
    preview = (await api.post("/api/naming/preview", json={"series_key": "show"})).json()
    assert preview["folder"] == "Show [show]"
    cleared = await api.put("/api/series/show/naming", json={"series_folder": None})
    assert cleared.json()["override"]["series_folder"] is None
    bad = await api.put("/api/series/show/naming", json={"episode": "{title}"})
    assert bad.status_code == 400 and "must contain {episode}" in bad.json()["detail"]


async def test_downloads_use_the_naming_settings(
    api: httpx.AsyncClient, app: Any, library_dir: Path
) -> None:
    from showkeeper.downloads.plan import plan_for
    from tests.integration.downloads.queue_support import add_series

    ctx = app.state.ctx
    [episode_id] = await add_series(
        ctx.db, "dl", [(1, 4, [{"url": "http://127.0.0.1:9/e.mkv", "quality": 720}])], name="Dl"
    )
    await api.put("/api/naming", json={"episode": "{series} E{episode:03d} {quality}"})
    await api.put("/api/series/dl/naming", json={"season_folder": "S{season}"})
    plan = await plan_for(ctx.db, ctx.settings, episode_id)
    assert plan.dest == library_dir.resolve() / "Dl" / "S1" / "Dl E004 720p.mkv"
