"""A series added through the API ends in Kodi/Jellyfin's layout, with TMDB on, off and failing."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from pydantic import SecretStr
from sqlalchemy import select, update

from showkeeper.config import Settings
from showkeeper.context import AppContext
from showkeeper.db.models import Episode, Series
from showkeeper.metadata.loader import series_needing_repair
from showkeeper.metadata.nfo import read_nfo
from tests.metadata_site import TMDB_ID, Answer, MetaSite, show_feed

from .conftest import library_files, metadata_done, running, with_tmdb

FOLDER = "Kestrel Bay (2017)"
VIDEO = f"{FOLDER}/Season 01/Kestrel Bay - S01E01.mp4"
STEPS = [
    "pending",
    "loading_episodes",
    "loading_nfo",
    "loading_logo",
    "loading_images",
    "completed",
]


def image(path: Path) -> tuple[str, int, int]:
    with Image.open(path) as img:
        img.load()
        return str(img.format), img.width, img.height


async def row(ctx: AppContext, key: str) -> Series:
    async with ctx.db.session() as s:
        found = await s.scalar(select(Series).where(Series.key == key))
        assert found is not None
        return found


async def episodes(ctx: AppContext, key: str) -> list[Episode]:
    async with ctx.db.session() as s:
        series = await s.scalar(select(Series).where(Series.key == key))
        assert series is not None
        rows = await s.scalars(
            select(Episode).where(Episode.series_id == series.id).order_by(Episode.episode)
        )
        return list(rows.all())


async def add(ctx: AppContext, api: object, url: str) -> tuple[str, list[dict[str, object]]]:
    with ctx.bus.subscribe(types={"series_loading_update"}) as sub:
        resp = await api.post("/api/series", json={"url": url})  # type: ignore[attr-defined]
        assert resp.status_code == 202, resp.text
        key = str(resp.json()["key"])
        events = await metadata_done(sub, key)
    return key, events


async def test_with_tmdb_every_file_is_written_and_valid(
    settings: Settings, site: MetaSite, library_dir: Path
) -> None:
    site.put("/show.xml", show_feed(site), "application/rss+xml")
    video = library_dir / VIDEO  # already on disk before the series is added
    video.parent.mkdir(parents=True)
    video.write_bytes(b"\0" * 2048)
    async with running(with_tmdb(settings, site)) as (ctx, api):
        key, events = await add(ctx, api, site.url("/show.xml"))
        series = await row(ctx, key)
        eps = await episodes(ctx, key)

    assert [e["status"] for e in events] == STEPS
    assert all(e["folder"] == FOLDER and e["message"] for e in events)
    assert events[-1]["progress"] == {"episodes": True, "nfo": True, "logo": True, "images": True}
    assert events[2]["progress"] == {"episodes": True, "nfo": False, "logo": False, "images": False}
    assert (series.tmdb_id, series.tmdb_match) == (TMDB_ID, "auto")
    assert (series.has_nfo, series.logo_loaded, series.images_loaded, series.episodes_loaded) == (
        True,
        True,
        True,
        True,
    )
    assert series.loading_started_at and series.loading_completed_at
    assert series.metadata_errors is None
    # the file already on disk counted at once, and got its NFO and thumb in the same load
    assert eps[0].is_downloaded and eps[0].file_path == VIDEO
    assert eps[0].overview == "A boy does not come home from the harbour."
    assert eps[0].tmdb_id == 500001
    folder = library_dir / FOLDER
    assert library_files(library_dir) == sorted(
        [
            f"{FOLDER}/fanart.jpg",
            f"{FOLDER}/logo.png",
            f"{FOLDER}/poster.jpg",
            f"{FOLDER}/season01-poster.jpg",
            f"{FOLDER}/tvshow.nfo",
            f"{FOLDER}/Season 01/Kestrel Bay - S01E01-thumb.jpg",
            f"{FOLDER}/Season 01/Kestrel Bay - S01E01.mp4",
            f"{FOLDER}/Season 01/Kestrel Bay - S01E01.nfo",
        ]
    )
    assert image(folder / "poster.jpg") == ("JPEG", 400, 600)
    assert image(folder / "fanart.jpg") == ("JPEG", 1280, 720)
    assert image(folder / "logo.png") == ("PNG", 500, 200)
    assert image(folder / "Season 01/Kestrel Bay - S01E01-thumb.jpg") == ("JPEG", 640, 360)
    show = read_nfo(folder / "tvshow.nfo")
    assert show["uniqueids"] == {"showkeeper": key, "tmdb": str(TMDB_ID)}
    assert show["plot"] == "A fishing town keeps a secret that returns every thirty-three years."
    ep = read_nfo(folder / "Season 01/Kestrel Bay - S01E01.nfo")
    assert ep["plot"] == "A boy does not come home from the harbour."
    assert ep["uniqueids"]["tmdb"] == "500001"
    text = (folder / "tvshow.nfo").read_text()
    assert "<genre>Drama</genre>" in text and "<studio>Harbour TV</studio>" in text
    # the English logo was chosen over the French one (metadata_language en-US)
    assert site.hits["/t/p/original/kestrelLogoEn.png"] == 1
    assert site.hits["/t/p/original/kestrelLogoFr.png"] == 0


async def test_without_tmdb_the_sources_own_metadata_is_used(
    settings: Settings, site: MetaSite, library_dir: Path
) -> None:
    site.put("/show.xml", show_feed(site), "application/rss+xml")
    video = library_dir / VIDEO
    video.parent.mkdir(parents=True)
    video.write_bytes(b"\0" * 2048)
    async with running(settings) as (ctx, api):
        key, events = await add(ctx, api, site.url("/show.xml"))
        series = await row(ctx, key)
        eps = await episodes(ctx, key)
        status = (await api.get("/api/metadata/status")).json()

    assert [e["status"] for e in events] == STEPS
    assert site.tmdb_requests == []
    assert status["configured"] is False and status["status"] == "off"
    assert series.tmdb_id is None and series.metadata_errors is None
    assert series.logo_loaded  # nothing offers a logo: nothing to load
    folder = library_dir / FOLDER
    assert not (folder / "logo.png").exists() and not (folder / "fanart.jpg").exists()
    # the channel image was a PNG served as cover.jpg: checked, then written as a real JPEG
    assert image(folder / "poster.jpg") == ("JPEG", 600, 600)
    assert image(folder / "Season 01/Kestrel Bay - S01E01-thumb.jpg") == ("JPEG", 320, 180)
    assert eps[0].overview == "Plot of episode 1 & more."
    text = (folder / "tvshow.nfo").read_text()
    assert "<genre>Fiction</genre>" in text and "<genre>Drama</genre>" in text
    assert "<studio>Harbour Radio</studio>" in text
    assert read_nfo(folder / "Season 01/Kestrel Bay - S01E01.nfo")["plot"] == (
        "Plot of episode 1 & more."
    )


async def test_tmdb_failing_falls_back_and_is_reported(
    settings: Settings, site: MetaSite, library_dir: Path
) -> None:
    site.put("/show.xml", show_feed(site), "application/rss+xml")
    # a server error (retried, honouring Retry-After), then a wrong key for the rest
    site.tmdb_script["/search/tv"] = [Answer(500, b"oops", {"Retry-After": "0"})] * 4
    async with running(with_tmdb(settings, site)) as (ctx, api):
        key, events = await add(ctx, api, site.url("/show.xml"))
        first = await row(ctx, key)
        after_500 = (await api.get("/api/metadata/status")).json()
        assert events[-1]["status"] == "completed"
        assert "HTTP 500" in first.metadata_errors["tmdb"]
        assert after_500["status"] == "error" and not after_500["bad_key"]
        assert site.tmdb_requests.count("/search/tv") == 4  # 1 + 3 retries
        assert await series_needing_repair(ctx) == [key]  # the rescan asks TMDB again

        ctx.settings.tmdb_api_key = SecretStr("wrong")  # as PUT /api/config applies it
        (library_dir / FOLDER / "poster.jpg").unlink()
        with ctx.bus.subscribe(types={"series_loading_update"}) as sub:
            resp = await api.post(f"/api/series/{key}/metadata")
            assert resp.status_code == 202
            await metadata_done(sub, key)
        second = await row(ctx, key)
        status = (await api.get("/api/metadata/status")).json()
        health = (await api.get("/health/detailed")).json()
        config = (await api.get("/api/config")).json()
    assert config["tmdb"]["bad_key"] is True
    assert config["settings"]["tmdb_api_key"] == "********"
    assert "HTTP 401" in second.metadata_errors["tmdb"]
    assert status["bad_key"] is True and status["status"] == "error"
    assert health["tmdb"]["bad_key"] is True and "401" in health["tmdb"]["last_error"]
    # the source's own poster is back, valid
    assert image(library_dir / FOLDER / "poster.jpg") == ("JPEG", 600, 600)
    assert read_nfo(library_dir / FOLDER / "tvshow.nfo")["title"] == "Kestrel Bay"


async def test_a_rebuilt_database_finds_the_tmdb_id_in_tvshow_nfo(
    settings: Settings, site: MetaSite, library_dir: Path, tmp_path: Path
) -> None:
    from showkeeper.context import open_context
    from showkeeper.library.service import run_scan

    site.put("/show.xml", show_feed(site), "application/rss+xml")
    async with running(with_tmdb(settings, site)) as (ctx, api):
        key, _ = await add(ctx, api, site.url("/show.xml"))
    fresh_dir = tmp_path / "data-rebuilt"
    fresh_dir.mkdir()
    fresh = settings.model_copy(
        update={
            "data_dir": fresh_dir,
            "database_url": f"sqlite+aiosqlite:///{fresh_dir / 'showkeeper.db'}",
        }
    )
    async with open_context(fresh) as rebuilt:
        await run_scan(rebuilt)
        series = await row(rebuilt, key)
    assert (series.folder, series.tmdb_id, series.source_kind) == (FOLDER, TMDB_ID, "local")


async def test_new_episodes_from_a_refresh_get_their_metadata(
    settings: Settings, site: MetaSite, library_dir: Path
) -> None:
    site.put("/show.xml", show_feed(site, episodes=2), "application/rss+xml")
    async with running(settings) as (ctx, api):
        key, _ = await add(ctx, api, site.url("/show.xml"))
        series = await row(ctx, key)
        assert (series.loading_status, series.metadata_status) == ("completed", "completed")
        async with ctx.db.write() as s:  # as if artwork were still loading: refresh anyway
            await s.execute(
                update(Series).where(Series.key == key).values(metadata_status="loading_images")
            )
        site.put("/show.xml", show_feed(site, episodes=3), "application/rss+xml")
        with ctx.bus.subscribe(types={"series_loading_update"}) as sub:
            resp = await api.post(f"/api/series/{key}/refresh")
            assert resp.status_code == 202
            events = await metadata_done(sub, key)
        eps = await episodes(ctx, key)
    assert events[-1]["status"] == "completed"
    assert [(e.episode, e.overview) for e in eps][-1] == (3, "Plot of episode 3 & more.")
    assert eps[-1].image_url == site.url("/art/ep3.jpg")
