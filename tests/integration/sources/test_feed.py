"""Feeds end to end: a real server on 127.0.0.1, the real service, a real SQLite file."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from showkeeper.context import AppContext
from showkeeper.db.models import Episode, Series
from showkeeper.errors import ConflictError
from showkeeper.series.missing import missing_episodes
from showkeeper.series.service import update_series
from showkeeper.sources.filters import InvalidOptionsError
from showkeeper.sources.service import add_series, refresh_all, refresh_series
from tests.sources_docs import atom_feed, podcast_item, podcast_rss

from .conftest import Site


async def episodes_of(ctx: AppContext, key: str) -> list[Episode]:
    async with ctx.db.session() as s:
        series = await s.scalar(select(Series).where(Series.key == key))
        assert series is not None
        rows = await s.scalars(
            select(Episode)
            .where(Episode.series_id == series.id)
            .order_by(Episode.season, Episode.episode)
        )
        return list(rows)


async def test_podcast_feed_numbers_and_candidates(ctx: AppContext, site: Site) -> None:
    items = [podcast_item(n, season=1, number=n) for n in (1, 2, 3)]
    items.append(podcast_item(4, season=2, number=1))
    items.append(podcast_item(5, kind="trailer", alternates=False))
    site.put("/podcast.xml", podcast_rss(items), "application/rss+xml", etag='"v1"')

    series = await add_series(ctx, site.url("/podcast.xml"))

    assert series.loading_status == "completed"
    assert series.source_kind == "feed"  # detected from the content
    assert series.name == "The Test Podcast"
    assert series.folder == "The Test Podcast (2024)"
    assert series.language == "en-us"
    assert series.overview == "A show & its tests."
    assert series.source_state["etag"] == '"v1"'
    eps = await episodes_of(ctx, series.key)
    assert [(e.season, e.episode) for e in eps] == [(0, 1), (1, 1), (1, 2), (1, 3), (2, 1)]
    trailer, first = eps[0], eps[1]
    assert trailer.title == "Episode 5: Topic 5"
    assert [c["url"].rsplit("/", 1)[1] for c in trailer.candidates] == ["ep5.mp3"]
    assert first.remote_id == "urn:ep:1"
    assert first.duration_s == 1800
    assert first.air_date == date(2024, 1, 8)
    # media:content and podcast:alternateEnclosure, best quality first, the mp3 last
    assert [(c["quality"], c["url"].rsplit("/", 1)[1]) for c in first.candidates] == [
        (1080, "ep1-1080.mp4"),
        (720, "ep1-720.mp4"),
        (480, "ep1-480.mp4"),
        (None, "ep1.mp3"),
    ]
    assert first.candidates[0]["kind"] == "direct"
    assert first.candidates[0]["size"] == 10800
    assert first.candidates[3]["mime"] == "audio/mpeg"
    assert all(c["url"].startswith(site.url("/")) for c in first.candidates)


async def test_max_resolution_puts_higher_qualities_last(ctx: AppContext, site: Site) -> None:
    ctx.settings = ctx.settings.model_copy(update={"max_resolution": 720})
    site.put("/p.xml", podcast_rss([podcast_item(1, number=1)]))
    series = await add_series(ctx, site.url("/p.xml"))
    (ep,) = await episodes_of(ctx, series.key)
    assert [c["quality"] for c in ep.candidates] == [720, 480, None, 1080]


async def test_atom_without_numbers_uses_guid_and_publication_order(
    ctx: AppContext, site: Site
) -> None:
    site.put("/atom.xml", atom_feed([1, 2, 3]), "application/atom+xml", etag='"a1"')
    series = await add_series(ctx, site.url("/atom.xml"), kind="feed")
    eps = await episodes_of(ctx, series.key)
    assert [(e.episode, e.title) for e in eps] == [
        (1, "Chapter 1"),
        (2, "Chapter 2"),
        (3, "Chapter 3"),
    ]
    assert eps[0].remote_id == "tag:atom.example,2024:1"
    assert eps[0].candidates[0]["url"] == site.url("/media/chapter1.mp4")

    # chapters 1 and 2 drop out of the feed, 4 and 5 appear: numbers stay, new ones follow
    site.put("/atom.xml", atom_feed([3, 4, 5]), "application/atom+xml", etag='"a2"')
    with ctx.bus.subscribe(types=["episodes_added"]) as sub:
        summary = await refresh_series(ctx, series.key)
        event = sub.get_nowait()
    assert summary.changed == 1 and summary.episodes_added == 2
    assert event is not None and event.data["key"] == series.key and event.data["count"] == 2
    assert [e["episode"] for e in event.data["episodes"]] == [4, 5]
    eps = await episodes_of(ctx, series.key)
    assert [(e.episode, e.title) for e in eps] == [
        (1, "Chapter 1"),
        (2, "Chapter 2"),
        (3, "Chapter 3"),
        (4, "Chapter 4"),
        (5, "Chapter 5"),
    ]


async def test_refresh_uses_conditional_get_and_keeps_library_columns(
    ctx: AppContext, site: Site
) -> None:
    site.put("/p.xml", podcast_rss([podcast_item(n, number=n) for n in (1, 2)]), etag='"v1"')
    series = await add_series(ctx, site.url("/p.xml"))
    async with ctx.db.write() as s:  # the library found episode 1 on disk
        await s.execute(
            update(Episode)
            .where(Episode.series_id == series.id, Episode.episode == 1)
            .values(is_downloaded=True, file_path="The Test Podcast/ep1.mp4", monitored=False)
        )

    first = await refresh_all(ctx)
    assert (first.series, first.not_modified, first.changed) == (1, 1, 0)
    assert site.conditional_hits["/p.xml"] == 1

    site.put("/p.xml", podcast_rss([podcast_item(n, number=n) for n in (1, 2, 3)]), etag='"v2"')
    second = await refresh_all(ctx)
    assert (second.changed, second.episodes_added) == (1, 1)
    eps = await episodes_of(ctx, series.key)
    assert [e.episode for e in eps] == [1, 2, 3]
    assert eps[0].is_downloaded and eps[0].file_path == "The Test Podcast/ep1.mp4"
    assert eps[0].monitored is False
    async with ctx.db.session() as s:
        state = (await s.scalar(select(Series.source_state).where(Series.id == series.id))) or {}
    assert state["etag"] == '"v2"' and state["last_error"] is None


async def test_filters_apply_on_add_and_refresh(ctx: AppContext, site: Site) -> None:
    items = [podcast_item(n) for n in (1, 2, 3, 4)]
    items.append(podcast_item(5, duration="00:01:00"))
    site.put("/f.xml", podcast_rss(items))
    options = {"exclude": "topic 2$", "not_before": "2024-01-10", "min_duration_s": 300}
    series = await add_series(ctx, site.url("/f.xml"), options=options)
    eps = await episodes_of(ctx, series.key)
    # every item is stored and numbered (so a filter change never renumbers); 1 is before
    # not_before, 2 excluded, 5 too short: those are marked filtered and never missing
    assert [(e.episode, e.title, e.filtered) for e in eps] == [
        (1, "Episode 1: Topic 1", True),
        (2, "Episode 2: Topic 2", True),
        (3, "Episode 3: Topic 3", False),
        (4, "Episode 4: Topic 4", False),
        (5, "Episode 5: Topic 5", True),
    ]
    missing = await missing_episodes(ctx.db, series_key=series.key)
    assert [m.episode for m in missing] == [3, 4]

    # a filter edit marks the stored episodes at once, without a refresh
    await update_series(ctx.db, series.key, monitored=None, options={"min_duration_s": None})
    assert [e.filtered for e in await episodes_of(ctx, series.key)] == [
        True,
        True,
        False,
        False,
        False,
    ]
    # and a refresh applies the stored filters to what the source lists
    site.put("/f.xml", podcast_rss([*items, podcast_item(6)]))
    await refresh_series(ctx, series.key)
    eps = await episodes_of(ctx, series.key)
    assert [(e.episode, e.filtered) for e in eps] == [
        (1, True),
        (2, True),
        (3, False),
        (4, False),
        (5, False),
        (6, False),
    ]
    missing = await missing_episodes(ctx.db, series_key=series.key)
    assert [m.episode for m in missing] == [3, 4, 5, 6]


async def test_invalid_filter_regex_is_refused_before_anything_is_stored(
    ctx: AppContext, site: Site
) -> None:
    with pytest.raises(InvalidOptionsError, match="include is not a valid regular expression"):
        await add_series(ctx, site.url("/f.xml"), options={"include": "(unclosed"})
    async with ctx.db.session() as s:
        assert (await s.scalars(select(Series))).all() == []


async def test_same_url_or_key_twice_is_a_conflict(ctx: AppContext, site: Site) -> None:
    site.put("/p.xml", podcast_rss([podcast_item(1)]))
    series = await add_series(ctx, site.url("/p.xml"))
    with pytest.raises(ConflictError, match="already has this source URL"):
        await add_series(ctx, site.url("/p.xml#again").upper().replace("/P.XML#AGAIN", "/p.xml"))
    site.put("/other.xml", podcast_rss([podcast_item(1)], title="Other"))
    with pytest.raises(ConflictError, match="already has this key"):
        await add_series(ctx, site.url("/other.xml"), key=series.key)
    other = await add_series(ctx, site.url("/other.xml"), key="other-show")
    assert other.key == "other-show"
    # same title as the first series' folder would be -> a distinct folder
    site.put("/third.xml", podcast_rss([podcast_item(1)]))
    third = await add_series(ctx, site.url("/third.xml"))
    assert third.folder == "The Test Podcast (2024) (2)"
