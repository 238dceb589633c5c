"""A feed's own metadata (no I/O): channel image, description, author, categories, and each
item's ``itunes:image`` and description, for the metadata loader.

Read with ElementTree (expat refuses entity-expansion bombs); a document that is not
well-formed XML simply has no metadata here (its episodes come from feedparser as before).
Item keys are the same remote ids :mod:`feed_parse` gives episodes: the guid, else the first
enclosure's URL.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # expat >= 2.4 refuses entity expansion bombs
from urllib.parse import urljoin

from showkeeper.sources.base import EpisodeMetadata, SourceMetadata
from showkeeper.sources.feed_parse import plain_text

ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
MEDIA = "{http://search.yahoo.com/mrss/}"
ATOM = "{http://www.w3.org/2005/Atom}"
MAX_CATEGORIES = 20


def _url(base: str, value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    absolute = urljoin(base, value.strip())
    return absolute if absolute.startswith(("http://", "https://")) else None


def _text(node: ET.Element, *tags: str) -> str | None:
    for tag in tags:
        found = node.find(tag)
        if found is not None:
            text = "".join(found.itertext()).strip()
            if text:
                return text
    return None


def _item_image(item: ET.Element, base: str) -> str | None:
    image = item.find(ITUNES + "image")
    if image is not None:
        url = _url(base, image.get("href"))
        if url:
            return url
    for thumb in item.iter(MEDIA + "thumbnail"):
        url = _url(base, thumb.get("url"))
        if url:
            return url
    return None


def _rss(channel: ET.Element, base: str) -> SourceMetadata:
    posters: list[str] = []
    itunes_image = channel.find(ITUNES + "image")
    if itunes_image is not None and (url := _url(base, itunes_image.get("href"))):
        posters.append(url)
    image = channel.find("image")
    if image is not None and (url := _url(base, _text(image, "url"))) and url not in posters:
        posters.append(url)
    categories: list[str] = []
    for cat in channel.iter(ITUNES + "category"):
        text = (cat.get("text") or "").strip()
        if text and text not in categories:
            categories.append(text[:100])
    for cat in channel.findall("category"):
        text = "".join(cat.itertext()).strip()
        if text and text not in categories:
            categories.append(text[:100])
    episodes: dict[str, EpisodeMetadata] = {}
    for item in channel.iter("item"):
        guid = _text(item, "guid")
        enclosure = item.find("enclosure")
        key = guid or (_url(base, enclosure.get("url")) if enclosure is not None else None)
        if not key:
            continue
        overview = plain_text(_text(item, ITUNES + "summary", "description"))
        thumb = _item_image(item, base)
        if overview or thumb:
            episodes[key[:2000]] = EpisodeMetadata(overview=overview, image=thumb)
    return SourceMetadata(
        overview=plain_text(_text(channel, "description", ITUNES + "summary")),
        author=plain_text(_text(channel, ITUNES + "author", "managingEditor"), 300),
        categories=tuple(categories[:MAX_CATEGORIES]),
        posters=tuple(posters),
        episodes=episodes,
    )


def _atom(feed: ET.Element, base: str) -> SourceMetadata:
    posters = [u for u in (_url(base, _text(feed, ATOM + "logo", ATOM + "icon")),) if u]
    episodes: dict[str, EpisodeMetadata] = {}
    for entry in feed.iter(ATOM + "entry"):
        key = _text(entry, ATOM + "id")
        if not key:
            continue
        overview = plain_text(_text(entry, ATOM + "summary", ATOM + "content"))
        image = _item_image(entry, base)
        if overview or image:
            episodes[key[:2000]] = EpisodeMetadata(overview=overview, image=image)
    author = feed.find(ATOM + "author")
    return SourceMetadata(
        overview=plain_text(_text(feed, ATOM + "subtitle")),
        author=plain_text(_text(author, ATOM + "name"), 300) if author is not None else None,
        categories=tuple(
            (c.get("term") or "")[:100] for c in feed.findall(ATOM + "category") if c.get("term")
        )[:MAX_CATEGORIES],
        posters=tuple(posters),
        episodes=episodes,
    )


def feed_metadata(body: bytes, url: str) -> SourceMetadata:
    """What a feed document says about its series and items (empty when it is not XML)."""
    try:
        root = ET.fromstring(body)  # noqa: S314 - see the import
    except ET.ParseError:
        return SourceMetadata()
    if root.tag == ATOM + "feed":
        return _atom(root, url)
    channel = root.find("channel")
    return _rss(channel, url) if channel is not None else SourceMetadata()
