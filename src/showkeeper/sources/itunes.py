"""Podcast directory search through the iTunes Search API (its JSON shape)."""

from __future__ import annotations

from typing import Any

from yarl import URL

from showkeeper.sources.base import SearchResult, SourceEnv, SourceError
from showkeeper.sources.fetching import fetch

MAX_SEARCH_BYTES = 2 * 1024 * 1024


async def search_podcasts(env: SourceEnv, query: str, *, limit: int = 20) -> list[SearchResult]:
    """Podcasts matching ``query``: ``GET {itunes_search_url}?term=...&media=podcast``.

    Raises:
        SourceError: empty query, unreachable service or an answer not in the API's shape.
    """
    term = query.strip()
    if not term:
        raise SourceError("search needs a query: give some words of the podcast's name")
    url = URL(env.settings.itunes_search_url).update_query(
        term=term[:200], media="podcast", entity="podcast", limit=str(max(1, min(limit, 200)))
    )
    result = await fetch(env, str(url), max_bytes=MAX_SEARCH_BYTES)
    try:
        data = result.json()
    except ValueError:
        raise SourceError(
            f"the podcast directory at {env.settings.itunes_search_url} did not answer JSON; "
            "check the itunes_search_url setting"
        ) from None
    rows = data.get("results") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise SourceError(
            f"the podcast directory at {env.settings.itunes_search_url} answered without a "
            "results list; check the itunes_search_url setting"
        )
    return [hit for row in rows if (hit := _hit(row)) is not None]


def _hit(row: Any) -> SearchResult | None:
    if not isinstance(row, dict):
        return None
    feed_url = row.get("feedUrl")
    title = row.get("collectionName") or row.get("trackName")
    if not isinstance(feed_url, str) or not feed_url.startswith(("http://", "https://")):
        return None
    count = row.get("trackCount")
    return SearchResult(
        title=str(title or feed_url),
        url=feed_url,
        kind="feed",
        author=str(row["artistName"]) if row.get("artistName") else None,
        image=row.get("artworkUrl600") or row.get("artworkUrl100"),
        episode_count=count if isinstance(count, int) else None,
        genre=str(row["primaryGenreName"]) if row.get("primaryGenreName") else None,
    )
