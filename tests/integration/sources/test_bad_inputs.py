"""Bad sources give a clear error and leave a failed series without episodes, retryable."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from showkeeper.context import AppContext
from showkeeper.db.models import Episode, Series
from showkeeper.errors import ConflictError, ShowkeeperError
from showkeeper.sources.service import add_series, refresh_all, retry_series
from tests.sources_docs import podcast_item, podcast_rss

from .conftest import Site

HTML = b"<!DOCTYPE html><html><head><title>Welcome</title></head><body><p>Hello</p></body></html>"
MALFORMED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Broken</title><item><title>a</item></channel></rss>'


async def stored(ctx: AppContext, key: str) -> tuple[Series, int]:
    async with ctx.db.session() as s:
        series = await s.scalar(select(Series).where(Series.key == key))
        assert series is not None
        count = await s.scalar(
            select(func.count()).select_from(Episode).where(Episode.series_id == series.id)
        )
        return series, int(count or 0)


async def add_failing(ctx: AppContext, url: str, kind: str | None, match: str) -> Series:
    with (
        ctx.bus.subscribe(types=["series_loading_update"]) as sub,
        pytest.raises(ShowkeeperError, match=match),
    ):
        await add_series(ctx, url, kind=kind)
    statuses = []
    while (event := sub.get_nowait()) is not None:
        statuses.append(event.data["status"])
    assert statuses[0] == "pending" and statuses[-1] == "failed"
    async with ctx.db.session() as s:
        key = await s.scalar(select(Series.key).where(Series.source_url == url))
    assert key is not None
    series, count = await stored(ctx, key)
    assert series.loading_status == "failed"
    assert series.loading_error is not None and len(series.loading_error.splitlines()) == 1
    assert count == 0
    return series


@pytest.mark.parametrize(
    ("path", "kind", "body", "content_type", "match"),
    [
        ("/page.html", "feed", HTML, "text/html", "returned an HTML page, not a feed"),
        ("/broken.xml", "feed", MALFORMED, "application/xml", "not well-formed XML"),
        ("/empty.xml", None, b"just some text", "text/plain", "cannot tell what kind of source"),
        ("/notfeed.json", "feed", b'{"a": 1}', "application/json", "is not a feed"),
    ],
)
async def test_unreadable_documents(
    ctx: AppContext,
    site: Site,
    path: str,
    kind: str | None,
    body: bytes,
    content_type: str,
    match: str,
) -> None:
    site.put(path, body, content_type)
    await add_failing(ctx, site.url(path), kind, match)


@pytest.mark.parametrize("path", ["/huge.xml", "/huge-chunked.xml"])
async def test_thirty_megabyte_feed_is_refused(ctx: AppContext, site: Site, path: str) -> None:
    await add_failing(ctx, site.url(path), "feed", "larger than the 20971520-byte limit")


async def test_redirect_loop(ctx: AppContext, site: Site) -> None:
    await add_failing(ctx, site.url("/loop-a"), "feed", "redirect loop")


async def test_timeout(ctx: AppContext, site: Site) -> None:
    await add_failing(ctx, site.url("/stall"), "feed", "timed out")


async def test_missing_page(ctx: AppContext, site: Site) -> None:
    await add_failing(ctx, site.url("/nothing.xml"), "feed", "answered HTTP 404")


async def test_private_address_refused_without_allowed_network(ctx: AppContext, site: Site) -> None:
    ctx.settings = ctx.settings.model_copy(update={"allowed_private_networks": []})
    await add_failing(ctx, site.url("/p.xml"), "feed", "refusing to connect to 127.0.0.1")


async def test_non_http_url_is_refused_up_front(ctx: AppContext) -> None:
    with pytest.raises(ShowkeeperError, match="only http:// and https://"):
        await add_series(ctx, "file:///etc/passwd")
    async with ctx.db.session() as s:
        assert (await s.scalars(select(Series))).all() == []


async def test_unsupported_url_for_ytdlp(ctx: AppContext, site: Site) -> None:
    site.put("/plain.html", HTML, "text/html")
    await add_failing(ctx, site.url("/plain.html"), "ytdlp", "unsupported URL")


async def test_failed_add_can_be_retried_once_fixed(ctx: AppContext, site: Site) -> None:
    site.put("/later.xml", MALFORMED)
    series = await add_failing(ctx, site.url("/later.xml"), "feed", "not well-formed")
    # a failed series is not refreshed, and a second add of its URL is a conflict
    assert (await refresh_all(ctx)).series == 0
    with pytest.raises(ConflictError):
        await add_series(ctx, site.url("/later.xml"))

    site.put("/later.xml", podcast_rss([podcast_item(1, number=1), podcast_item(2, number=2)]))
    assert series.key == "127-0-0-1-" + series.key.split("-", 4)[4]  # no title yet: the URL's
    done = await retry_series(ctx, series.key, background=False)
    assert done.loading_status == "completed" and done.loading_error is None
    assert done.name == "The Test Podcast"
    assert done.key == "the-test-podcast"  # its first load names it from the title
    assert (await stored(ctx, done.key))[1] == 2
    with pytest.raises(ConflictError, match="not failed"):
        await retry_series(ctx, done.key)


async def test_refresh_failure_is_recorded_and_other_series_still_refresh(
    ctx: AppContext, site: Site
) -> None:
    site.put("/a.xml", podcast_rss([podcast_item(1)], title="A"))
    site.put("/b.xml", podcast_rss([podcast_item(1)], title="B"))
    a = await add_series(ctx, site.url("/a.xml"))
    b = await add_series(ctx, site.url("/b.xml"))
    site.put("/a.xml", HTML, "text/html")
    site.put("/b.xml", podcast_rss([podcast_item(1), podcast_item(2)], title="B"))
    summary = await refresh_all(ctx)
    assert (summary.failed, summary.changed, summary.episodes_added) == (1, 1, 1)
    assert "HTML page" in summary.errors[a.key]
    series_a, count_a = await stored(ctx, a.key)
    assert count_a == 1 and series_a.loading_status == "completed"
    assert "HTML page" in series_a.source_state["last_error"]
    assert (await stored(ctx, b.key))[1] == 2


async def test_429_with_retry_after_is_retried(ctx: AppContext, site: Site) -> None:
    site.put("/p.xml", podcast_rss([podcast_item(1)]))
    series = await add_series(ctx, site.url("/p.xml"))
    site.status_script["/p.xml"] = [(429, {"Retry-After": "0"}), (503, {"Retry-After": "0"})]
    summary = await refresh_all(ctx)
    assert (summary.failed, summary.changed) == (0, 1)
    assert site.hits["/p.xml"] == 4  # add, then 429, 503, 200
    assert (await stored(ctx, series.key))[1] == 1
