"""yt-dlp playlists through its generic extractor, on pages and media served locally."""

from __future__ import annotations

from email.utils import format_datetime

from sqlalchemy import select

from showkeeper.context import AppContext
from showkeeper.db.models import Episode, Series
from showkeeper.sources.service import add_series, refresh_series
from tests.sources_docs import day

from .conftest import Site

PAGE = b"""<!DOCTYPE html><html><head><title>My Channel</title></head><body>
<h1>Latest videos</h1>
<video src="/media/ep1.mp4" controls></video>
<video controls><source src="/media/ep2.mp4" type="video/mp4"></video>
<video src="/media/ep3.mp4"></video>
</body></html>"""


def rss_playlist(site: Site, items: list[tuple[int, str, int]]) -> bytes:
    """An RSS playlist yt-dlp's generic extractor reads: (guid n, title, week offset)."""
    body = "".join(
        f"<item><title>{title}</title><link>{site.url(f'/media/ep{n}.mp4')}</link>"
        f"<guid>vid-{n}</guid><pubDate>{format_datetime(day(week))}</pubDate></item>"
        for n, title, week in items
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Video Playlist</title>'
        f"<link>{site.url('/')}</link><description>d</description>{body}</channel></rss>"
    ).encode()


def serve_media(site: Site, media_files: dict[str, bytes]) -> None:
    for name, data in media_files.items():
        site.put(f"/media/{name}", data, "video/mp4")


async def rows(ctx: AppContext, key: str) -> list[Episode]:
    async with ctx.db.session() as s:
        series = await s.scalar(select(Series).where(Series.key == key))
        assert series is not None
        return list(
            await s.scalars(
                select(Episode)
                .where(Episode.series_id == series.id)
                .order_by(Episode.season, Episode.episode)
            )
        )


async def test_html_page_with_videos_is_a_playlist(
    ctx: AppContext, site: Site, media_files: dict[str, bytes]
) -> None:
    serve_media(site, media_files)
    site.put("/channel.html", PAGE, "text/html; charset=utf-8")

    series = await add_series(ctx, site.url("/channel.html"))

    assert series.source_kind == "ytdlp"  # not a feed, not a listing: the generic extractor
    assert series.name == "My Channel"
    eps = await rows(ctx, series.key)
    assert [(e.season, e.episode) for e in eps] == [(1, 1), (1, 2), (1, 3)]
    assert [e.candidates for e in eps] == [
        [
            {
                "url": site.url(f"/media/ep{n}.mp4"),
                "kind": "page",
                "quality": None,
                "mime": None,
                "size": None,
                "headers": {},
            }
        ]
        for n in (1, 2, 3)
    ]
    assert len({e.remote_id for e in eps}) == 3


async def test_rss_playlist_through_ytdlp_by_upload_year(
    ctx: AppContext, site: Site, media_files: dict[str, bytes]
) -> None:
    serve_media(site, media_files)
    # weeks -60 and -55 are in 2022 (season 2022), the others in 2024; listed newest first
    items = [(3, "Third", 2), (2, "Second", -55), (1, "First", -60)]
    site.put("/playlist.rss", rss_playlist(site, items), "application/rss+xml")

    series = await add_series(
        ctx, site.url("/playlist.rss"), kind="ytdlp", options={"season_mode": "year"}
    )

    eps = await rows(ctx, series.key)
    assert [(e.season, e.episode, e.title, e.remote_id) for e in eps] == [
        (2022, 1, "First", "vid-1"),
        (2022, 2, "Second", "vid-2"),
        (2024, 1, "Third", "vid-3"),
    ]
    assert eps[0].air_date == day(-60).date()
    assert eps[0].candidates[0]["kind"] == "page"
    assert eps[0].candidates[0]["url"] == site.url("/media/ep1.mp4")

    site.put("/playlist.rss", rss_playlist(site, [(4, "Fourth", 3), *items]), "application/rss+xml")
    with ctx.bus.subscribe(types=["episodes_added"]) as sub:
        summary = await refresh_series(ctx, series.key)
        event = sub.get_nowait()
    assert summary.episodes_added == 1
    assert event is not None and event.data["episodes"] == [
        {"season": 2024, "episode": 2, "title": "Fourth"}
    ]
