"""Identify through the API, artwork served to the browser, and repair by the scheduled rescan."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from PIL import Image

from showkeeper.automation.jobs import rescan
from showkeeper.config import Settings
from showkeeper.metadata.nfo import read_nfo
from tests.metadata_site import TMDB_ID, MetaSite, jpeg, show_feed

from .conftest import metadata_done, running, with_tmdb
from .test_loader import FOLDER, VIDEO, add, episodes, image, row


async def test_identify_fixes_a_missing_match(
    settings: Settings, site: MetaSite, library_dir: Path
) -> None:
    # "Kestrel" is not "Kestrel Bay": no confident match, the source's poster is used
    site.put("/show.xml", show_feed(site, title="Kestrel"), "application/rss+xml")
    async with running(with_tmdb(settings, site)) as (ctx, api):
        key, _ = await add(ctx, api, site.url("/show.xml"))
        series = await row(ctx, key)
        assert series.tmdb_id is None
        assert "no confident TMDB match" in series.metadata_errors["tmdb"]
        folder = library_dir / series.folder
        assert image(folder / "poster.jpg") == ("JPEG", 600, 600)  # the feed's

        listed = await api.get(f"/api/series/{key}/identify", params={"q": "Kestrel Bay"})
        assert listed.status_code == 200, listed.text
        found = listed.json()["candidates"]
        assert [(c["tmdb_id"], c["year"]) for c in found] == [
            (90210, 2017),
            (90211, 2019),
            (90212, 1994),
        ]
        assert found[0]["poster_url"] == "/api/metadata/tmdb-poster/kestrelPoster1.jpg"
        poster = await api.get(found[0]["poster_url"])
        assert poster.status_code == 200 and poster.headers["content-type"] == "image/jpeg"
        again = await api.get(found[0]["poster_url"])
        assert again.content == poster.content
        assert site.hits["/t/p/w342/kestrelPoster1.jpg"] == 1  # cached after the first

        bad = await api.post(f"/api/series/{key}/identify", json={})
        assert bad.status_code == 400
        unknown = await api.post(f"/api/series/{key}/identify", json={"tmdb_id": 4})
        assert unknown.status_code == 400 and "no series with id 4" in unknown.text

        with ctx.bus.subscribe(types={"series_loading_update"}) as sub:
            resp = await api.post(f"/api/series/{key}/identify", json={"tmdb_id": TMDB_ID})
            assert resp.status_code == 202, resp.text
            assert resp.json()["tmdb_name"] == "Kestrel Bay"
            events = await metadata_done(sub, key)
        assert events[-1]["status"] == "completed"
        series = await row(ctx, key)
        assert (series.tmdb_id, series.tmdb_match) == (TMDB_ID, "manual")
        # our own poster was replaced by TMDB's; the NFO carries the TMDB id
        assert image(folder / "poster.jpg") == ("JPEG", 400, 600)
        assert read_nfo(folder / "tvshow.nfo")["uniqueids"]["tmdb"] == str(TMDB_ID)

        with ctx.bus.subscribe(types={"series_loading_update"}) as sub:
            resp = await api.post(f"/api/series/{key}/identify", json={"none": True})
            assert resp.status_code == 202
            await metadata_done(sub, key)
        series = await row(ctx, key)
        assert (series.tmdb_id, series.tmdb_match) == (None, "none")
        assert "tmdb" not in read_nfo(folder / "tvshow.nfo")["uniqueids"]
        assert all(e.tmdb_id is None for e in await episodes(ctx, key))
        requests = len(site.tmdb_requests)
        with ctx.bus.subscribe(types={"series_loading_update"}) as sub:
            await api.post(f"/api/series/{key}/metadata")
            await metadata_done(sub, key)
        assert len(site.tmdb_requests) == requests  # "none" stops asking TMDB


async def test_foreign_artwork_is_kept_unless_replaced(
    settings: Settings, site: MetaSite, library_dir: Path
) -> None:
    theirs = jpeg(300, 450, (200, 0, 0))
    (library_dir / FOLDER).mkdir()
    (library_dir / FOLDER / "poster.jpg").write_bytes(theirs)
    site.put("/show.xml", show_feed(site), "application/rss+xml")
    async with running(settings) as (ctx, api):
        key, _ = await add(ctx, api, site.url("/show.xml"))
        assert (library_dir / FOLDER / "poster.jpg").read_bytes() == theirs
        with ctx.bus.subscribe(types={"series_loading_update"}) as sub:
            resp = await api.post(f"/api/series/{key}/metadata", params={"replace_artwork": True})
            assert resp.status_code == 202
            await metadata_done(sub, key)
    assert image(library_dir / FOLDER / "poster.jpg") == ("JPEG", 600, 600)


async def test_artwork_routes_cache_and_resize(
    settings: Settings, site: MetaSite, library_dir: Path
) -> None:
    site.put("/show.xml", show_feed(site), "application/rss+xml")
    video = library_dir / VIDEO
    video.parent.mkdir(parents=True)
    video.write_bytes(b"\0" * 2048)
    async with running(with_tmdb(settings, site)) as (ctx, api):
        key, _ = await add(ctx, api, site.url("/show.xml"))
        poster = await api.get(f"/api/series/{key}/artwork/poster")
        assert poster.status_code == 200
        assert poster.headers["content-type"] == "image/jpeg"
        assert poster.headers["cache-control"] == "private, max-age=3600"
        assert poster.content == (library_dir / FOLDER / "poster.jpg").read_bytes()
        etag = poster.headers["etag"]
        cached = await api.get(f"/api/series/{key}/artwork/poster", headers={"If-None-Match": etag})
        assert cached.status_code == 304 and not cached.content
        small = await api.get(f"/api/series/{key}/artwork/poster", params={"width": 150})
        assert small.status_code == 200
        with Image.open(io.BytesIO(small.content)) as img:
            assert img.width == 150
        assert list((settings.data_dir / "artwork-cache").glob("*-150.jpg"))
        logo = await api.get(f"/api/series/{key}/artwork/logo", params={"width": 300})
        assert logo.headers["content-type"] == "image/png"
        thumb = await api.get(f"/api/series/{key}/episodes/1/1/thumb")
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
        assert (await api.get(f"/api/series/{key}/episodes/1/2/thumb")).status_code == 404
        assert (await api.get(f"/api/series/{key}/artwork/banner")).status_code == 404
        assert (await api.get(f"/api/series/{key}/artwork/nope")).status_code == 422
        assert (await api.get(f"/api/series/{key}/artwork/..%2F..%2Fetc")).status_code == 404
        assert (await api.get("/api/series/nope/artwork/poster")).status_code == 404
        assert "img-src 'self'" in poster.headers["content-security-policy"]


async def test_the_scheduled_rescan_repairs_what_was_deleted(
    settings: Settings, site: MetaSite, library_dir: Path
) -> None:
    site.put("/show.xml", show_feed(site), "application/rss+xml")
    video = library_dir / VIDEO
    video.parent.mkdir(parents=True)
    video.write_bytes(b"\0" * 2048)
    async with running(with_tmdb(settings, site)) as (ctx, api):
        await add(ctx, api, site.url("/show.xml"))
        folder = library_dir / FOLDER
        fanart = (folder / "fanart.jpg").read_bytes()
        (folder / "poster.jpg").unlink()
        (folder / "logo.png").unlink()
        (folder / "fanart.jpg").write_bytes(fanart[: len(fanart) // 2])  # truncated
        nfo = (folder / "tvshow.nfo").read_bytes()
        (folder / "tvshow.nfo").write_bytes(nfo[: len(nfo) // 2])  # ours, cut in half
        (folder / "Season 01/Kestrel Bay - S01E01.nfo").unlink()
        await rescan(ctx)  # the scheduler's job, as it runs at the daily rescan
    assert image(folder / "poster.jpg") == ("JPEG", 400, 600)
    assert image(folder / "logo.png") == ("PNG", 500, 200)
    assert image(folder / "fanart.jpg") == ("JPEG", 1280, 720)
    assert (
        hashlib.sha256((folder / "fanart.jpg").read_bytes()).hexdigest()
        == hashlib.sha256(fanart).hexdigest()
    )
    assert read_nfo(folder / "tvshow.nfo")["title"] == "Kestrel Bay"
    assert read_nfo(folder / "Season 01/Kestrel Bay - S01E01.nfo")["episode"] == 1


async def test_identify_dialog_on_the_series_page(
    settings: Settings, site: MetaSite, library_dir: Path
) -> None:
    site.put("/show.xml", show_feed(site, title="Kestrel"), "application/rss+xml")
    async with running(with_tmdb(settings, site)) as (ctx, api):
        key, _ = await add(ctx, api, site.url("/show.xml"))
        page = await api.get(f"/series/{key}")
        assert page.status_code == 200, page.text
        assert 'id="identify-dialog"' in page.text and "Not matched to TMDB yet." in page.text
        assert f'hx-get="/series/{key}/identify"' in page.text
        partial = await api.get(f"/series/{key}/identify", params={"q": "Kestrel Bay"})
        assert partial.status_code == 200
        assert partial.text.count("Use this") == 3
        assert '{"tmdb_id": 90210}' in partial.text.replace("&#34;", '"')
        assert 'src="/api/metadata/tmdb-poster/kestrelPoster1.jpg"' in partial.text
        none = await api.get(f"/series/{key}/identify", params={"q": "zzz nothing"})
        assert "TMDB has no series matching" in none.text
        ctx.settings.tmdb_api_key = None
        off = await api.get(f"/series/{key}/identify")
        assert "no TMDB key is set" in off.text
