"""OPML subscription lists (podcast apps' export format) -> feed URLs (no I/O)."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # expat >= 2.4 refuses entity expansion bombs
from dataclasses import dataclass

from showkeeper.errors import ShowkeeperError

MAX_OPML_BYTES = 5 * 1024 * 1024


class OpmlError(ShowkeeperError):
    """The file is not an OPML subscription list."""

    status_code = 400


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    url: str
    title: str | None = None


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """Every outline with an ``xmlUrl`` (nested folders included), first occurrence kept.

    Raises:
        OpmlError: too large, not XML, not OPML, or without any feed.
    """
    if len(data) > MAX_OPML_BYTES:
        raise OpmlError(f"the OPML file is larger than {MAX_OPML_BYTES // (1024 * 1024)} MiB")
    try:
        root = ET.fromstring(data)  # noqa: S314 - see the import
    except ET.ParseError as exc:
        raise OpmlError(f"the file is not valid XML ({exc}); export the OPML again") from None
    if root.tag.lower() != "opml":
        raise OpmlError(f"the file is XML but not OPML (its root element is <{root.tag}>)")
    feeds: list[OpmlFeed] = []
    seen: set[str] = set()
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url or url in seen:
            continue
        seen.add(url)
        title = outline.get("title") or outline.get("text")
        feeds.append(OpmlFeed(url=url, title=title.strip() if title else None))
    if not feeds:
        raise OpmlError("the OPML file lists no feeds (no outline has an xmlUrl)")
    return feeds


def build_opml(feeds: list[OpmlFeed], *, title: str = "showkeeper feeds") -> bytes:
    """An OPML 2.0 subscription list of ``feeds`` (ElementTree escapes every value)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for feed in feeds:
        text = feed.title or feed.url
        ET.SubElement(body, "outline", type="rss", text=text, title=text, xmlUrl=feed.url)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
