"""Which kind a URL is: a URL claim (a site yt-dlp knows) or what the URL serves, asked at
once; a document a kind is sure of decides without waiting for the claims."""

from __future__ import annotations

import pytest

from showkeeper.config import Settings
from showkeeper.sources.base import SourceError
from showkeeper.sources.fetching import source_env
from showkeeper.sources.registry import detect_kind
from showkeeper.sources.ytdlp_source import specific_extractor
from tests.sources_docs import podcast_item, podcast_rss

from .conftest import Site

PAGE = b"<!DOCTYPE html><html><head><title>Videos</title></head><body>hi</body></html>"


async def test_a_feed_is_a_feed_without_waiting_for_the_url_claims(
    settings: Settings, site: Site
) -> None:
    site.put("/show.xml", podcast_rss([podcast_item(1)]), "application/rss+xml")
    url = site.url("/show.xml")
    async with source_env(settings) as env:
        assert await detect_kind(env, url) == "feed"
        assert url in env.prefetched  # the feed source reads it without a second request


async def test_a_web_page_waits_for_the_claims_then_is_left_to_yt_dlp(
    settings: Settings, site: Site
) -> None:
    site.put("/videos", PAGE, "text/html")
    async with source_env(settings) as env:
        assert await detect_kind(env, site.url("/videos")) == "ytdlp"


async def test_a_url_yt_dlp_claims_needs_no_answer_from_its_host(settings: Settings) -> None:
    # nothing answers on this port: the claim alone decides
    url = "http://127.0.0.1:9/watch?v=abcdefghijk"
    if specific_extractor("https://www.youtube.com/watch?v=abcdefghijk") is None:
        pytest.fail("yt-dlp no longer claims YouTube watch URLs")
    async with source_env(settings) as env:
        assert await detect_kind(env, "https://www.youtube.com/watch?v=abcdefghijk") == "ytdlp"
        with pytest.raises(SourceError):
            await detect_kind(env, url)  # unreachable, and nobody claims it
