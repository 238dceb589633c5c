"""Exporting every feed source as an OPML subscription list (what importing.py reads)."""

from __future__ import annotations

from sqlalchemy import select

from showkeeper.db import Database
from showkeeper.db.models import Series
from showkeeper.sources.opml import OpmlFeed, build_opml

FEED_KIND = "feed"


async def export_opml(db: Database) -> bytes:
    """Every series whose source is a feed, by name, as OPML."""
    async with db.session() as s:
        rows = await s.execute(
            select(Series.name, Series.source_url)
            .where(Series.source_kind == FEED_KIND, Series.source_url.is_not(None))
            .order_by(Series.name, Series.id)
        )
        feeds = [OpmlFeed(url=str(url), title=name) for name, url in rows]
    return build_opml(feeds)
