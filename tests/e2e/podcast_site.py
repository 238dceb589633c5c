"""A podcast site for the end-to-end tests: RSS feeds and their media (made with ffmpeg)
on a real aiohttp server (tests.integration.downloads.servers.MediaServer) running in its
own thread, so blocking callers (the CLI through CliRunner, subprocesses) and the app's
event loop can both use it.

The feed has three MP4 episodes (the second one's first enclosure 404s) and one HLS
episode; the hostile feed has path-like and device-name titles and a ``.desktop`` enclosure.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from tests.integration.downloads.servers import (
    MediaServer,
    Resource,
    make_hls,
    make_media,
    playlist_duration,
)

ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST_NS = "https://podcastindex.org/namespace/1.0"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Enclosure:
    url: str
    type: str = "video/mp4"
    length: int = 0


@dataclass(frozen=True)
class Item:
    """One feed item: ``enclosures[0]`` is the <enclosure>, the rest are
    podcast:alternateEnclosure elements."""

    title: str
    season: int
    episode: int
    enclosures: tuple[Enclosure, ...]
    pub_date: str = "Mon, 01 Jan 2024 10:00:00 GMT"


def rss(title: str, items: list[Item]) -> bytes:
    """An RSS 2.0 podcast feed with itunes:season/episode and alternate enclosures."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<rss version="2.0" xmlns:itunes="{ITUNES_NS}" xmlns:podcast="{PODCAST_NS}">',
        f"<channel><title>{escape(title)}</title><link>http://example.invalid/</link>",
        "<description>An end-to-end test feed.</description><language>en</language>",
    ]
    for n, item in enumerate(items):
        first, *alternates = item.enclosures
        out += [
            f"<item><title>{escape(item.title)}</title><guid>e2e-{n}</guid>",
            f"<pubDate>{item.pub_date}</pubDate>",
            f"<itunes:season>{item.season}</itunes:season>",
            f"<itunes:episode>{item.episode}</itunes:episode>",
            f"<enclosure url={quoteattr(first.url)} type={quoteattr(first.type)}"
            f' length="{first.length}"/>',
        ]
        for alt in alternates:
            out += [
                f'<podcast:alternateEnclosure type={quoteattr(alt.type)} length="{alt.length}">',
                f"<podcast:source uri={quoteattr(alt.url)}/>",
                "</podcast:alternateEnclosure>",
            ]
        out.append("</item>")
    out.append("</channel></rss>")
    return "\n".join(out).encode()


@dataclass
class ThreadedSite:
    """A MediaServer on 127.0.0.1 whose event loop runs in a daemon thread."""

    server: MediaServer = field(default_factory=MediaServer)
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    _thread: threading.Thread | None = None

    def start(self) -> ThreadedSite:
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(timeout=10)
        self._loop.close()

    def url(self, path: str) -> str:
        return self.server.url(path)

    def add(self, path: str, body: bytes | Path, content_type: str) -> str:
        return self.server.add(path, Resource(body=body, content_type=content_type))

    def add_dir(self, prefix: str, directory: Path) -> str:
        return self.server.add_dir(prefix, directory)

    def hits(self, path: str) -> list[int]:
        """Status codes of the GET/HEAD requests for ``path`` so far."""
        return [r.status for r in list(self.server.requests) if r.path == path]


SHOW = "E2E Show"
FOLDER = "E2E Show (2024)"  # the feed's title and the year of its first episode
HLS_TYPE = "application/x-mpegURL"
HOSTILE_TITLES = ("../../etc/passwd", "CON", "-rf")
LAUNCHER = b"[Desktop Entry]\nType=Application\nExec=sh -c 'rm -rf ~'\n"


@dataclass(frozen=True)
class Expected:
    """An episode of the feed and what must end up in the library for it."""

    episode: int
    title: str
    hls: bool
    source: Path  # the served MP4, or the HLS playlist

    @property
    def file_name(self) -> str:
        return f"{SHOW} - S01E{self.episode:02d} - {self.title}.mp4"


@dataclass(frozen=True)
class Site:
    feed_url: str
    hostile_url: str
    episodes: tuple[Expected, ...]
    hls_seconds: float
    threaded: ThreadedSite

    def direct_url(self, n: int) -> str:
        return self.threaded.url(f"/media/e{n}.mp4")

    @property
    def hls_url(self) -> str:
        return self.threaded.url("/hls/index.m3u8")


def _feed(site: ThreadedSite, media: Path) -> tuple[bytes, tuple[Expected, ...]]:
    def enclosure(n: int) -> Enclosure:
        path = media / f"e{n}.mp4"
        return Enclosure(site.url(f"/media/e{n}.mp4"), length=path.stat().st_size)

    # e2's <enclosure> 404s; it claims to be larger, so it is ranked (and tried) first
    gone = Enclosure(site.url("/media/gone.mp4"), length=50_000_000)
    items = [
        Item("Pilot", 1, 1, (enclosure(1),), "Mon, 01 Jan 2024 10:00:00 GMT"),
        Item("Second Wind", 1, 2, (gone, enclosure(2)), "Mon, 08 Jan 2024 10:00:00 GMT"),
        Item("Third Time", 1, 3, (enclosure(3),), "Mon, 15 Jan 2024 10:00:00 GMT"),
        Item(
            "Live Stream",
            1,
            4,
            (Enclosure(site.url("/hls/index.m3u8"), HLS_TYPE),),
            "Mon, 22 Jan 2024 10:00:00 GMT",
        ),
    ]
    expected = tuple(
        Expected(
            item.episode,
            item.title,
            hls=item.episode == 4,
            source=media / "hls" / "index.m3u8" if item.episode == 4 else media / f"e{n}.mp4",
        )
        for n, item in enumerate(items, start=1)
    )
    return rss(SHOW, items), expected


def _hostile(site: ThreadedSite) -> bytes:
    items = [
        Item(title, 1, n, (Enclosure(site.url(f"/media/e{n}.mp4")),))
        for n, title in enumerate(HOSTILE_TITLES, start=1)
    ]
    launcher = Enclosure(site.url("/evil/launcher.desktop"), "video/mp4")
    items.append(Item("Launcher", 1, 4, (launcher,)))
    return rss("../../Hostile Show", items)


@contextmanager
def serve(media: Path) -> Iterator[Site]:
    """Make the media in ``media`` and serve both feeds until the block ends."""
    for n, seconds in ((1, 1.0), (2, 1.4), (3, 1.8)):  # distinct files: a mix-up shows
        make_media(media / f"e{n}.mp4", seconds=seconds)
    playlist = make_hls(media / "hls", seconds=3, hls_time=1)
    threaded = ThreadedSite().start()
    try:
        threaded.add_dir("/media", media)
        threaded.add_dir("/hls", media / "hls")
        threaded.add("/evil/launcher.desktop", LAUNCHER, "application/x-desktop")
        feed, expected = _feed(threaded, media)
        threaded.add("/feed.xml", feed, "application/rss+xml")
        threaded.add("/hostile.xml", _hostile(threaded), "application/rss+xml")
        yield Site(
            feed_url=threaded.url("/feed.xml"),
            hostile_url=threaded.url("/hostile.xml"),
            episodes=expected,
            hls_seconds=playlist_duration(playlist),
            threaded=threaded,
        )
    finally:
        threaded.stop()
