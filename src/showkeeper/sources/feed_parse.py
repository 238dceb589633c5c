"""RSS 2.0 / Atom / podcast feed documents -> SeriesInfo and RemoteEpisodes (no I/O).

A well-formed RSS 2.0 or Atom 1.0 document is read by :mod:`feed_fast` (ElementTree);
everything else by feedparser, which also explains what is wrong with a bad document.
Both give the same dict shape, mapped to episodes here. podcast:alternateEnclosure (which
feedparser flattens to its last occurrence) is read from the ElementTree.
"""

from __future__ import annotations

import calendar
import datetime as dt
import html
import re
import xml.etree.ElementTree as ET  # expat >= 2.4 refuses entity expansion bombs
import xml.sax
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import feedparser

from showkeeper.domain.candidates import Candidate
from showkeeper.sources.base import RemoteEpisode, SeriesInfo, SourceError
from showkeeper.sources.feed_fast import read_fast
from showkeeper.sources.keys import slug_from_url
from showkeeper.sources.quality import order_candidates

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
_TAG_RE = re.compile(r"<[^>]+>")
_SPACE_RE = re.compile(r"\s+")
_HLS_TYPES = ("application/x-mpegurl", "application/vnd.apple.mpegurl", "audio/mpegurl")
_MEDIA_EXT_RE = re.compile(
    r"\.(mp4|m4v|m4a|mp3|mkv|webm|mov|ogg|oga|ogv|opus|aac|flac|wav|m3u8)$", re.I
)
_FEED_MARKERS = (b"<rss", b"<feed", b"<rdf:rdf", b"<channel")
MAX_OVERVIEW = 5000


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    info: SeriesInfo
    episodes: list[RemoteEpisode]


def looks_like_html(body: bytes, content_type: str = "") -> bool:
    head = body[:2048].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return True
    return "html" in content_type.lower() and not any(m in head for m in _FEED_MARKERS)


def looks_like_feed(body: bytes) -> bool:
    head = body[:4096].lower()
    return any(marker in head for marker in _FEED_MARKERS) and not head.lstrip().startswith(
        (b"<!doctype html", b"<html")
    )


def plain_text(value: str | None, limit: int = MAX_OVERVIEW) -> str | None:
    """HTML or text -> one paragraph of plain text."""
    if not value:
        return None
    text = _SPACE_RE.sub(" ", html.unescape(_TAG_RE.sub(" ", value))).strip()
    return text[:limit] or None


def parse_duration(value: Any) -> int | None:
    """itunes:duration ("1:02:03", "62:03", "3723", "3723.5") -> seconds."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        if ":" in text:
            total = 0.0
            for part in text.split(":"):
                total = total * 60 + float(part)
            seconds = total
        else:
            seconds = float(text)
    except ValueError:
        return None
    return int(seconds) if 0 < seconds < 10**7 else None


def _int(value: Any, maximum: int) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= maximum else None


def _when(entry: Any) -> dt.datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if parsed is None:
        return None
    try:
        return dt.datetime.fromtimestamp(calendar.timegm(parsed), tz=dt.UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _kind(url: str, mime: str | None) -> str:
    if (mime or "").lower() in _HLS_TYPES or url.lower().split("?")[0].endswith(".m3u8"):
        return "hls"
    return "direct"


def _is_media(url: str, mime: str | None, medium: str | None = None) -> bool:
    mime = (mime or "").lower()
    if mime.startswith(("audio/", "video/")) or mime in _HLS_TYPES:
        return True
    if medium in ("audio", "video"):
        return True
    return not mime and bool(_MEDIA_EXT_RE.search(url.split("?")[0]))


def _candidate(
    base: str, url: Any, mime: Any, height: Any, size: Any, medium: Any = None
) -> Candidate | None:
    if not url or not isinstance(url, str):
        return None
    absolute = urljoin(base, url.strip())
    if not absolute.startswith(("http://", "https://")):
        return None
    mime_s = str(mime).strip() if mime else None
    if not _is_media(absolute, mime_s, str(medium) if medium else None):
        return None
    return Candidate(
        url=absolute,
        kind=_kind(absolute, mime_s),  # type: ignore[arg-type]
        quality=_int(height, 10000),
        mime=mime_s,
        size=_int(size, 10**13),
    )


def _alternates(root: ET.Element | None) -> dict[str, list[dict[str, str]]]:
    """guid and "#<index>" -> podcast:alternateEnclosure attributes plus their source URIs."""
    if root is None:
        return {}
    out: dict[str, list[dict[str, str]]] = {}
    for index, item in enumerate(root.iter("item")):
        found: list[dict[str, str]] = []
        for alt in item.iter(f"{{{PODCAST_NS}}}alternateEnclosure"):
            for source in alt.iter(f"{{{PODCAST_NS}}}source"):
                uri = source.get("uri")
                if uri:
                    found.append({**alt.attrib, "uri": uri})
        if found:
            out[f"#{index}"] = found
            guid = (item.findtext("guid") or "").strip()
            if guid:
                out[guid] = found
    return out


def _tree(body: bytes) -> ET.Element | None:
    """The document as an ElementTree, when it has alternate enclosures and is well-formed."""
    if b"alternateEnclosure" not in body:
        return None
    try:
        return ET.fromstring(body)  # noqa: S314 - see the import
    except ET.ParseError:
        return None


def _entry_candidates(
    entry: Any, base: str, alts: list[dict[str, str]], max_height: int
) -> tuple[Candidate, ...]:
    found: list[Candidate | None] = []
    for link in entry.get("links", []):
        if link.get("rel") == "enclosure":
            found.append(
                _candidate(base, link.get("href"), link.get("type"), None, link.get("length"))
            )
    for media in entry.get("media_content", []):
        found.append(
            _candidate(
                base,
                media.get("url"),
                media.get("type"),
                media.get("height"),
                media.get("filesize"),
                media.get("medium"),
            )
        )
    for alt in alts:
        found.append(
            _candidate(base, alt["uri"], alt.get("type"), alt.get("height"), alt.get("length"))
        )
    ordered = order_candidates([c for c in found if c is not None], max_height=max_height)
    has_enclosure = any(link.get("rel") == "enclosure" for link in entry.get("links", []))
    # An item without any enclosure may be a video page (a YouTube channel feed); a link that
    # feedparser made from a permalink guid is not a page of its own.
    if not ordered and not has_enclosure and entry.get("link") and not entry.get("guidislink"):
        page = urljoin(base, entry["link"])
        if page.startswith(("http://", "https://")):
            return (Candidate(url=page, kind="page"),)
    return ordered


def _raise_unusable(parsed: Any, url: str, body: bytes, content_type: str) -> None:
    exc = parsed.get("bozo_exception")
    if not parsed.get("version") and looks_like_html(body, content_type):
        raise SourceError(
            f"{url} returned an HTML page, not a feed (RSS/Atom XML); use the feed's own "
            "address (often linked as RSS on the page)"
        )
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start != b"<":
        what = content_type.split(";")[0].strip() or "a document that is not XML"
        raise SourceError(
            f"{url} is not a feed: it sent {what}, not RSS or Atom XML; check the address"
        )
    # HTML entities such as &nbsp; in RSS are common and harmless: feedparser's lenient
    # parser reads those documents. Broken structure (mismatched tags...) is refused.
    lenient = isinstance(exc, xml.sax.SAXParseException) and "undefined entity" in str(exc)
    if isinstance(exc, xml.sax.SAXParseException) and not (lenient and parsed.get("version")):
        raise SourceError(
            f"the feed at {url} is not well-formed XML ({exc.getMessage()} at line "
            f"{exc.getLineNumber()}, column {exc.getColumnNumber()}); the publisher must fix it"
        )
    if not parsed.get("version"):
        raise SourceError(f"{url} is not a feed (no RSS or Atom document found)")


def parse_feed(
    body: bytes,
    url: str,
    content_type: str = "",
    *,
    max_height: int = 1080,
    fast: bool = True,
) -> ParsedFeed:
    """Read a feed document (``fast=False``: always through feedparser).

    Raises:
        SourceError: HTML instead of XML, malformed XML, or no RSS/Atom document.
    """
    quick = read_fast(body) if fast else None
    if quick is not None:
        feed, entries, root = quick
        alternates = _alternates(root if b"alternateEnclosure" in body else None)
    else:
        # No content-location, no sanitising: feedparser's per-element URI resolution and
        # HTML sanitiser double its cost; we resolve the few URLs we keep, store plain text.
        parsed = feedparser.parse(
            body,
            response_headers={"content-type": content_type or "application/xml"},
            sanitize_html=False,
            resolve_relative_uris=False,
        )
        _raise_unusable(parsed, url, body, content_type)
        feed, entries = parsed.feed, parsed.entries
        alternates = _alternates(_tree(body))
    dated: list[tuple[dt.datetime, int, RemoteEpisode]] = []
    undated: list[tuple[int, RemoteEpisode]] = []
    for index, entry in enumerate(entries):
        episode = _episode(entry, index, url, alternates, max_height)
        if episode is None:
            continue
        if episode.published is not None:
            dated.append((episode.published, -index, episode))
        else:
            undated.append((-index, episode))
    dated.sort(key=lambda t: (t[0], t[1]))
    undated.sort(key=lambda t: t[0])
    episodes = [t[2] for t in dated] + [t[1] for t in undated]
    image = (feed.get("image") or {}).get("href")
    years = [e.published.year for e in episodes if e.published is not None]
    title = plain_text(feed.get("title"), 500) or slug_from_url(url)
    info = SeriesInfo(
        key=slug_from_url(url),
        title=title,
        year=min(years) if years else None,
        overview=plain_text(
            feed.get("subtitle") or feed.get("summary") or feed.get("itunes_summary")
        ),
        images=(urljoin(url, image),) if image else (),
        language=(feed.get("language") or None),
    )
    return ParsedFeed(info=info, episodes=episodes)


def _episode(
    entry: Any,
    index: int,
    base: str,
    alternates: dict[str, list[dict[str, str]]],
    max_height: int,
) -> RemoteEpisode | None:
    guid = (entry.get("id") or "").strip()
    # feedparser may resolve a relative guid against the feed URL; the index still matches
    alts = alternates.get(guid) or alternates.get(f"#{index}") or []
    candidates = _entry_candidates(entry, base, alts, max_height)
    if not candidates:
        return None
    remote_id = guid or candidates[0].url
    published = _when(entry)
    kind = str(entry.get("itunes_episodetype") or "full").strip().lower()
    season = _int(entry.get("itunes_season"), 9999) or 1
    number = _int(entry.get("itunes_episode"), 99999)
    if kind in ("trailer", "bonus"):
        season, number = 0, None
    duration = parse_duration(entry.get("itunes_duration"))
    if duration is None:
        durations = [parse_duration(m.get("duration")) for m in entry.get("media_content", [])]
        duration = next((d for d in durations if d is not None), None)
    return RemoteEpisode(
        remote_id=remote_id[:2000],
        season=season,
        episode=number,
        title=plain_text(entry.get("title"), 500),
        air_date=published.date() if published else None,
        published=published,
        duration_s=duration,
        candidates=candidates,
    )
