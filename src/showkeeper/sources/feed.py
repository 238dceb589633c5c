"""RSS 2.0, Atom and podcast feeds, with conditional GET."""

from __future__ import annotations

import asyncio

from showkeeper.net import FetchResult
from showkeeper.sources.base import (
    NotModified,
    RemoteEpisode,
    SearchResult,
    SeriesInfo,
    SeriesRef,
    Source,
    SourceEnv,
    SourceMetadata,
)
from showkeeper.sources.feed_meta import feed_metadata
from showkeeper.sources.feed_parse import ParsedFeed, looks_like_feed, parse_feed
from showkeeper.sources.fetching import fetch
from showkeeper.sources.itunes import search_podcasts

INLINE_PARSE_BYTES = 256 * 1024


class FeedSource(Source):
    """A feed is a series; its items are episodes (itunes numbering, else publication order)."""

    kind = "feed"
    label = "Feed"

    def __init__(self, env: SourceEnv) -> None:
        super().__init__(env)
        self._parsed: dict[str, ParsedFeed] = {}
        self._validators: dict[str, tuple[str | None, str | None]] = {}
        self._bodies: dict[str, tuple[bytes, str]] = {}  # the last document read, for metadata

    @classmethod
    def detect(cls, url: str, body: bytes, content_type: str) -> int:
        ct = content_type.lower()
        if any(t in ct for t in ("rss", "atom", "xml")) and looks_like_feed(body):
            return 95
        return 90 if looks_like_feed(body) else 0

    async def _parse(self, result: FetchResult) -> ParsedFeed:
        content_type = result.headers.get("Content-Type", "")
        max_height = self.env.settings.max_resolution
        if len(result.body) <= INLINE_PARSE_BYTES:  # about a millisecond: not worth a thread
            return parse_feed(result.body, result.url, content_type, max_height=max_height)
        # a large feed takes long enough to stall other fetches: parse it in a thread
        return await asyncio.to_thread(
            parse_feed, result.body, result.url, content_type, max_height=max_height
        )

    async def probe(self, url: str) -> SeriesInfo:
        result = await fetch(self.env, url)
        parsed = await self._parse(result)
        self._parsed[url] = parsed
        self._bodies[url] = (result.body, result.url)
        self._validators[url] = (result.etag, result.last_modified)
        return parsed.info

    async def episodes(self, series: SeriesRef) -> list[RemoteEpisode]:
        cached = self._parsed.get(series.url)
        if cached is not None:
            etag, last_modified = self._validators.get(series.url, (None, None))
            series.state.update(etag=etag, last_modified=last_modified)
            return cached.episodes
        result = await fetch(
            self.env,
            series.url,
            etag=series.state.get("etag"),
            last_modified=series.state.get("last_modified"),
        )
        if result.not_modified:
            raise NotModified
        parsed = await self._parse(result)
        self._bodies[series.url] = (result.body, result.url)
        series.state.update(etag=result.etag, last_modified=result.last_modified)
        return parsed.episodes

    async def metadata(self, series: SeriesRef) -> SourceMetadata:
        """Channel image, description, author, categories; each item's image and plot."""
        cached = self._bodies.get(series.url)
        if cached is None:
            result = await fetch(self.env, series.url)
            cached = (result.body, result.url)
            self._bodies[series.url] = cached
        body, url = cached
        if len(body) <= INLINE_PARSE_BYTES:
            return feed_metadata(body, url)
        return await asyncio.to_thread(feed_metadata, body, url)

    async def search(self, query: str, *, limit: int = 20) -> list[SearchResult]:
        return await search_podcasts(self.env, query, limit=limit)
