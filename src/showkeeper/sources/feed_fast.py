"""A fast reader for the common case: a well-formed RSS 2.0 or Atom 1.0 document.

feedparser is the parser of record, but it costs several milliseconds per feed in pure
Python, which bounds a refresh of a thousand feeds. Most feeds are plain, well-formed
RSS 2.0 or Atom: this reads them with ElementTree (expat, in C) into the same dict shape
feedparser produces (``feed`` and ``entries`` with the keys :mod:`feed_parse` reads), so
both paths share one mapping to episodes. Anything else (not well-formed, undefined
entities, other versions, ``xml:base``) returns None and goes to feedparser, which also
produces the error messages. tests/unit/sources/test_feed_fast.py holds the two paths equal.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # expat >= 2.4 refuses entity expansion bombs
from typing import Any

from feedparser.datetimes import _parse_date

ATOM = "{http://www.w3.org/2005/Atom}"
ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
MEDIA = "{http://search.yahoo.com/mrss/}"
DC = "{http://purl.org/dc/elements/1.1/}"
_ITUNES_KEYS = ("season", "episode", "episodeType", "duration")

Parsed = tuple[dict[str, Any], list[dict[str, Any]], ET.Element]


def _text(element: ET.Element | None) -> str | None:
    if element is None:
        return None
    text = "".join(element.itertext()).strip()
    return text or None


def _date(text: str | None) -> Any:
    return _parse_date(text) if text else None


def _itunes(node: ET.Element, out: dict[str, Any]) -> None:
    for name in _ITUNES_KEYS:
        value = _text(node.find(ITUNES + name))
        if value is not None:
            out["itunes_" + name.lower()] = value


def _media(item: ET.Element) -> list[dict[str, str]]:
    found = []
    for media in item.iter(MEDIA + "content"):
        attrs = {k.lower(): v for k, v in media.attrib.items()}
        found.append(attrs)
    return found


def _rss_entry(item: ET.Element) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    title = _text(item.find("title"))
    if title is not None:
        entry["title"] = title
    guid = item.find("guid")
    link = _text(item.find("link"))
    if guid is not None and _text(guid):
        entry["id"] = _text(guid)
        entry["guidislink"] = guid.get("isPermaLink", "true").lower() == "true" and link is None
        if entry["guidislink"]:
            link = entry["id"]
    if link is not None:
        entry["link"] = link
    published = _date(_text(item.find("pubDate")) or _text(item.find(DC + "date")))
    if published is not None:
        entry["published_parsed"] = published
    entry["links"] = [
        {
            "rel": "enclosure",
            "href": (enc.get("url") or "").strip(),
            "type": enc.get("type", ""),
            "length": enc.get("length", ""),
        }
        for enc in item.findall("enclosure")
    ]
    _itunes(item, entry)
    media = _media(item)
    if media:
        entry["media_content"] = media
    return entry


def _rss(root: ET.Element) -> Parsed | None:
    if root.get("version") != "2.0":
        return None
    channel = root.find("channel")
    if channel is None:
        return None
    feed: dict[str, Any] = {}
    for key, tag in (("title", "title"), ("subtitle", "description"), ("language", "language")):
        value = _text(channel.find(tag))
        if value is not None:
            feed[key] = value
    itunes_image = channel.find(ITUNES + "image")
    image = itunes_image.get("href") if itunes_image is not None else None
    image = image or _text(channel.find("image/url"))
    if image:
        feed["image"] = {"href": image.strip()}
    return feed, [_rss_entry(item) for item in channel.findall("item")], root


def _atom_entry(node: ET.Element) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for key, tag in (("title", "title"), ("id", "id")):
        value = _text(node.find(ATOM + tag))
        if value is not None:
            entry[key] = value
    for key, tag in (("published_parsed", "published"), ("updated_parsed", "updated")):
        value = _date(_text(node.find(ATOM + tag)))
        if value is not None:
            entry[key] = value
    links = []
    for link in node.findall(ATOM + "link"):
        rel = link.get("rel", "alternate")
        href = (link.get("href") or "").strip()
        links.append(
            {
                "rel": rel,
                "href": href,
                "type": link.get("type", ""),
                "length": link.get("length", ""),
            }
        )
        if rel == "alternate" and "link" not in entry:
            entry["link"] = href
    entry["links"] = links
    _itunes(node, entry)
    media = _media(node)
    if media:
        entry["media_content"] = media
    return entry


def _atom(root: ET.Element) -> Parsed:
    feed: dict[str, Any] = {}
    for key, tag in (("title", "title"), ("subtitle", "subtitle")):
        value = _text(root.find(ATOM + tag))
        if value is not None:
            feed[key] = value
    logo = _text(root.find(ATOM + "logo")) or _text(root.find(ATOM + "icon"))
    if logo:
        feed["image"] = {"href": logo}
    return feed, [_atom_entry(e) for e in root.findall(ATOM + "entry")], root


def read_fast(body: bytes) -> Parsed | None:
    """(feed, entries, root) in feedparser's shape, or None when feedparser must decide."""
    if b"xml:base" in body[:65536]:
        return None
    try:
        root = ET.fromstring(body)  # noqa: S314 - see the import
    except (ET.ParseError, ValueError):
        return None
    if root.tag == "rss":
        return _rss(root)
    if root.tag == ATOM + "feed":
        return _atom(root)
    return None
