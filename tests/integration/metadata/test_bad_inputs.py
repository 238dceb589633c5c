"""Hostile metadata: bad images, private redirects, odd titles, TMDB answering badly.

Each ends with a recorded error on the series and nothing invalid in the library.
"""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from showkeeper.config import Settings
from showkeeper.metadata.loader import repair_metadata
from showkeeper.metadata.nfo import read_nfo
from tests.metadata_site import Answer, MetaSite, jpeg, show_feed

from .conftest import running, with_tmdb
from .test_loader import add, row

HOSTILE = "<script>alert(1)</script> ]]> &#x202E;evil 🎬 ../../etc"


def every_image_opens(root: Path) -> list[str]:
    checked = []
    for path in root.rglob("*"):
        if path.suffix.lower() in (".jpg", ".png"):
            with Image.open(path) as img:
                img.load()
            checked.append(path.name)
    return checked


def outside(tmp_path: Path, library: Path) -> list[str]:
    """Files under tmp_path that are not in the library, the data dir or the test's cwd."""
    allowed = (library, tmp_path / "data", tmp_path / "cwd")
    return [
        str(p)
        for p in tmp_path.rglob("*")
        if p.is_file() and not any(p.is_relative_to(a) for a in allowed)
    ]


async def test_bad_images_are_refused_and_recorded(
    settings: Settings, site: MetaSite, library_dir: Path
) -> None:
    truncated = jpeg(400, 600)
    site.put("/bad/page.jpg", b"<!DOCTYPE html><html><body>Not found</body></html>", "image/jpeg")
    site.put("/bad/trunc.jpg", truncated[: len(truncated) // 3], "image/jpeg")
    feed = show_feed(site, channel_image="/bad/page.jpg").decode()
    feed = feed.replace(site.url("/art/ep1.jpg"), site.url("/huge.jpg"))
    feed = feed.replace(site.url("/art/ep2.jpg"), site.url("/redirect-private"))
    site.put("/show.xml", feed.encode(), "application/rss+xml")
    for n in (1, 2):
        video = library_dir / f"Kestrel Bay (2017)/Season 01/Kestrel Bay - S01E0{n}.mp4"
        video.parent.mkdir(parents=True, exist_ok=True)
        video.write_bytes(b"\0" * 1024)
    small = settings.model_copy(update={"artwork_max_mb": 1})
    async with running(small) as (ctx, api):
        key, events = await add(ctx, api, site.url("/show.xml"))
        series = await row(ctx, key)
        assert events[-1]["status"] == "completed"  # a bad poster never fails the series
        errors = series.metadata_errors or {}
        assert "an HTML page" in errors["images"]
        assert "larger than" in errors["images"]  # the 200 MB "thumbnail"
        assert "169.254.169.254" in errors["images"]  # the redirect to a private address
        assert not series.images_loaded and series.has_nfo
        folder = library_dir / "Kestrel Bay (2017)"
        assert not (folder / "poster.jpg").exists()
        assert not list(folder.rglob("*-thumb.jpg"))
        assert every_image_opens(library_dir) == []
        assert read_nfo(folder / "tvshow.nfo")["title"] == "Kestrel Bay"

        # the next repair tries again: the thumbs are fine now, the truncated poster is not
        site.put(
            "/show.xml", show_feed(site, channel_image="/bad/trunc.jpg"), "application/rss+xml"
        )
        results = await repair_metadata(ctx, keys=[key])
    assert "broken or truncated" in results[0].errors["images"]
    assert not (folder / "poster.jpg").exists()
    assert sorted(every_image_opens(library_dir)) == [
        "Kestrel Bay - S01E01-thumb.jpg",
        "Kestrel Bay - S01E02-thumb.jpg",
    ]


async def test_hostile_titles_stay_in_the_library_and_out_of_the_xml(
    settings: Settings, site: MetaSite, library_dir: Path, tmp_path: Path
) -> None:
    site.put("/show.xml", show_feed(site, title=HOSTILE), "application/rss+xml")
    site.search_results = [
        {
            "id": 90210,
            # the feed's title lost its tags (plain text); TMDB's has none either
            "name": "alert(1) ]]> \u202eevil 🎬 ../../etc",
            "first_air_date": "2017-12-01",
            "overview": "x",
        }
    ]
    site.tv_overrides = {
        "name": "<script>alert(1)</script> ]]> \u202eevil 🎬 ../../etc",
        "overview": "Bell \x07 and ]]> and <b>bold</b> \U0001f3ac",
    }
    async with running(with_tmdb(settings, site)) as (ctx, api):
        key, events = await add(ctx, api, site.url("/show.xml"))
        series = await row(ctx, key)
        detail = (await api.get(f"/api/series/{key}")).json()
    assert events[-1]["status"] == "completed"
    assert series.tmdb_id == 90210  # the same hostile title, normalised, matched
    assert outside(tmp_path, library_dir) == []
    folder = library_dir / series.folder
    assert folder.parent == library_dir and folder.is_dir()
    show = read_nfo(folder / "tvshow.nfo")  # parses: everything was escaped or dropped
    assert show["title"] == series.name
    assert "]]>" in show["title"] and "\u202e" in show["title"] and "🎬" in show["title"]
    assert show["plot"] == "Bell  and ]]> and <b>bold</b> \U0001f3ac"
    assert "\x07" not in (folder / "tvshow.nfo").read_text()
    assert detail["metadata"]["tmdb_id"] == 90210
    assert every_image_opens(library_dir)


async def test_tmdb_answers_of_the_wrong_shape_or_rate_limited(
    settings: Settings, site: MetaSite, library_dir: Path
) -> None:
    site.put("/show.xml", show_feed(site), "application/rss+xml")
    site.tmdb_script["/search/tv"] = [
        Answer(429, b"{}", {"Retry-After": "0"}),  # honoured, then retried
        Answer(200, json.dumps({"results": "not a list"}).encode(), {}),
    ]
    async with running(with_tmdb(settings, site)) as (ctx, api):
        key, events = await add(ctx, api, site.url("/show.xml"))
        series = await row(ctx, key)
    assert site.tmdb_requests[:2] == ["/search/tv", "/search/tv"]
    assert "unexpected shape" in series.metadata_errors["tmdb"]
    assert events[-1]["status"] == "completed"
    # the source's own poster stands in
    with Image.open(library_dir / series.folder / "poster.jpg") as img:
        assert img.format == "JPEG"


async def test_an_nfo_with_a_doctype_is_refused_unread_and_kept(
    settings: Settings, site: MetaSite, library_dir: Path
) -> None:
    theirs = (
        b'<?xml version="1.0"?><!DOCTYPE tvshow [<!ENTITY x "boom">]>'
        b"<tvshow><title>&x;</title></tvshow>"
    )
    folder = library_dir / "Kestrel Bay (2017)"
    folder.mkdir()
    (folder / "tvshow.nfo").write_bytes(theirs)
    site.put("/show.xml", show_feed(site), "application/rss+xml")
    async with running(settings) as (ctx, api):
        key, events = await add(ctx, api, site.url("/show.xml"))
        series = await row(ctx, key)
    assert events[-1]["status"] == "completed"
    assert "DOCTYPE" in series.metadata_errors["nfo"]
    assert not series.has_nfo
    assert (folder / "tvshow.nfo").read_bytes() == theirs
    assert every_image_opens(library_dir)  # the poster is still written
