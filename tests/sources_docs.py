"""Documents the source tests serve: podcast RSS, Atom, index pages, OPML, iTunes JSON (shared
by tests/unit/sources and tests/integration/sources)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

NS = (
    'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
    'xmlns:media="http://search.yahoo.com/mrss/" '
    'xmlns:podcast="https://podcastindex.org/namespace/1.0"'
)


def day(n: int) -> datetime:
    return datetime(2024, 1, 1, 12, tzinfo=UTC) + timedelta(days=7 * n)


def podcast_item(
    n: int,
    *,
    season: int | None = 1,
    number: int | None = None,
    kind: str = "full",
    base: str = "",
    alternates: bool = True,
    duration: str = "00:30:00",
) -> str:
    """One podcast item: an mp3 enclosure, media:content in 480p/1080p, a 720p alternate."""
    parts = [
        f"<title>Episode {n}: Topic {n}</title>",
        f'<guid isPermaLink="false">urn:ep:{n}</guid>',
        f"<pubDate>{format_datetime(day(n))}</pubDate>",
        f"<itunes:duration>{duration}</itunes:duration>",
        f"<itunes:episodeType>{kind}</itunes:episodeType>",
        f'<enclosure url="{base}audio/ep{n}.mp3" length="{1000 + n}" type="audio/mpeg"/>',
    ]
    if season is not None:
        parts.append(f"<itunes:season>{season}</itunes:season>")
    if number is not None:
        parts.append(f"<itunes:episode>{number}</itunes:episode>")
    if alternates:
        parts += [
            f'<media:content url="{base}video/ep{n}-480.mp4" type="video/mp4" height="480" fileSize="4800"/>',
            f'<media:content url="{base}video/ep{n}-1080.mp4" type="video/mp4" height="1080" fileSize="10800"/>',
            f'<podcast:alternateEnclosure type="video/mp4" height="720" length="7200">'
            f'<podcast:source uri="{base}video/ep{n}-720.mp4"/></podcast:alternateEnclosure>',
        ]
    return "<item>" + "".join(parts) + "</item>"


def podcast_rss(items: list[str], *, title: str = "The Test Podcast") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" {NS}><channel>'
        f"<title>{escape(title)}</title><link>http://podcast.example/</link>"
        "<description>&lt;p&gt;A show &amp;amp; its tests.&lt;/p&gt;</description>"
        '<language>en-us</language><itunes:image href="http://podcast.example/cover.jpg"/>'
        + "".join(reversed(items))  # feeds list newest first
        + "</channel></rss>"
    ).encode()


def atom_feed(entries: list[int], *, title: str = "Atom Series") -> bytes:
    """Atom entries without any numbering; ids are urn:uuid-like, dates weekly."""
    body = "".join(
        f"<entry><title>Chapter {n}</title><id>tag:atom.example,2024:{n}</id>"
        f"<updated>{day(n).isoformat()}</updated><published>{day(n).isoformat()}</published>"
        f'<link rel="enclosure" type="video/mp4" href="/media/chapter{n}.mp4" length="{2000 + n}"/>'
        f'<link rel="alternate" type="text/html" href="/chapters/{n}.html"/></entry>'
        for n in reversed(entries)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>tag:atom.example,2024:feed</id>"
        f"<updated>{day(max(entries)).isoformat()}</updated>{body}</feed>"
    ).encode()


def nginx_index(path: str, folders: list[str], files: list[tuple[str, int]]) -> bytes:
    from urllib.parse import quote

    lines = ['<a href="../">../</a>']
    for name in folders:
        lines.append(
            f'<a href="{quote(name)}/">{escape(name)}/</a>' + " " * 20 + "01-Jan-2024 10:00       -"
        )
    for name, size in files:
        lines.append(
            f'<a href="{quote(name)}">{escape(name)}</a>'
            + " " * 10
            + f"01-Jan-2024 10:00  {size:>8}"
        )
    return (
        f"<html>\r\n<head><title>Index of {escape(path)}</title></head>\r\n<body>\r\n"
        f"<h1>Index of {escape(path)}</h1><hr><pre>"
        + "\r\n".join(lines)
        + "\r\n</pre><hr></body>\r\n</html>\r\n"
    ).encode()


def apache_index(path: str, folders: list[str], files: list[tuple[str, str]]) -> bytes:
    from urllib.parse import quote

    rows = [
        '<tr><td valign="top"><img src="/icons/back.gif" alt="[PARENTDIR]"></td><td>'
        '<a href="/shows/">Parent Directory</a></td><td>&nbsp;</td><td align="right">  - </td><td>&nbsp;</td></tr>'
    ]
    for name in folders:
        rows.append(
            f'<tr><td valign="top"><img src="/icons/folder.gif" alt="[DIR]"></td><td><a href="{quote(name)}/">'
            f'{escape(name)}/</a></td><td align="right">2024-01-01 10:00  </td><td align="right">  - </td><td>&nbsp;</td></tr>'
        )
    for name, size in files:
        rows.append(
            f'<tr><td valign="top"><img src="/icons/movie.gif" alt="[VID]"></td><td><a href="{quote(name)}">'
            f'{escape(name)}</a></td><td align="right">2024-01-01 10:00  </td><td align="right">{size}</td><td>&nbsp;</td></tr>'
        )
    return (
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<html>\n <head>\n'
        f"  <title>Index of {escape(path)}</title>\n </head>\n <body>\n<h1>Index of {escape(path)}</h1>\n"
        '  <table>\n   <tr><th valign="top"><img src="/icons/blank.gif" alt="[ICO]"></th>'
        '<th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th>'
        '<th><a href="?C=S;O=A">Size</a></th><th><a href="?C=D;O=A">Description</a></th></tr>\n'
        '   <tr><th colspan="5"><hr></th></tr>\n' + "\n".join(rows) + "\n"
        '   <tr><th colspan="5"><hr></th></tr>\n</table>\n'
        "<address>Apache/2.4.58 (Ubuntu) Server at shows.example Port 80</address>\n</body></html>\n"
    ).encode()


def opml(urls: list[tuple[str, str]]) -> bytes:
    outlines = "".join(
        f'<outline type="rss" text="{escape(t)}" title="{escape(t)}" xmlUrl="{escape(u)}"/>'
        for t, u in urls
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><opml version="2.0"><head><title>Subs</title></head>'
        f'<body><outline text="Podcasts">{outlines}</outline></body></opml>'
    ).encode()


def itunes_results(feeds: list[tuple[str, str]]) -> dict[str, object]:
    """The iTunes Search API's documented answer shape."""
    return {
        "resultCount": len(feeds),
        "results": [
            {
                "wrapperType": "track",
                "kind": "podcast",
                "collectionId": 1000 + i,
                "trackId": 1000 + i,
                "artistName": f"Host {i}",
                "collectionName": title,
                "trackName": title,
                "feedUrl": url,
                "artworkUrl100": f"https://img.example/{i}/100x100bb.jpg",
                "artworkUrl600": f"https://img.example/{i}/600x600bb.jpg",
                "trackCount": 10 + i,
                "primaryGenreName": "Technology",
                "releaseDate": "2024-01-01T12:00:00Z",
            }
            for i, (title, url) in enumerate(feeds)
        ],
    }
