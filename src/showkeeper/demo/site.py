"""The demo's sample sources on 127.0.0.1: a video podcast feed, a feed of HLS episodes (two
variants each) and an nginx-style directory listing, with media sent at a modest rate so the
downloads show their progress."""

from __future__ import annotations

import asyncio
import datetime as dt
import mimetypes
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from aiohttp import web

from showkeeper.demo.media import DIR_EPISODES, FEED_EPISODES, HLS_EPISODES, DemoMedia

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
FEED_TITLES = (
    "First Light over the Ridge",
    "Cloud Streets",
    "The Long Dusk",
    "Thunderheads at Noon",
    "A Week of Fog",
    "Contrails and Cirrus",
    "Night Shift at the Observatory",
    "Rain Bands",
    "The Green Flash",
    "Snow Squall",
    "Noctilucent",
    "Clear Skies, Season Finale",
)
HLS_TITLES = ("Neon Crossing", "Last Tram Home", "Sodium Lights")
START = dt.datetime(2024, 1, 8, 18, 0, tzinfo=dt.UTC)
CHUNK = 32 * 1024


@dataclass
class DemoSite:
    """The sample sources; ``rate`` is bytes per second per download."""

    media: DemoMedia
    host: str = "127.0.0.1"
    port: int = 0
    rate: int = 600 * 1024
    _runner: web.AppRunner | None = field(default=None, init=False)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    @property
    def feed_url(self) -> str:
        return self.url("/open-sky.xml")

    @property
    def hls_feed_url(self) -> str:
        return self.url("/night-lanes.xml")

    @property
    def directory_url(self) -> str:
        return self.url("/shows/harbor-walks/")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/open-sky.xml", self._feed)
        app.router.add_get("/night-lanes.xml", self._hls_feed)
        app.router.add_get("/shows/harbor-walks/", self._listing_root)
        app.router.add_get("/shows/harbor-walks/Season 01/", self._listing_season)
        app.router.add_get("/shows/harbor-walks/Season 01/{name}", self._dir_file)
        app.router.add_get("/media/{path:.+}", self._media)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            self.port = int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- documents ------------------------------------------------------------------------

    def _rss(self, title: str, description: str, items: list[str]) -> web.Response:
        body = "\n".join(
            [
                '<?xml version="1.0" encoding="UTF-8"?>',
                f'<rss version="2.0" xmlns:itunes="{ITUNES}"><channel>',
                f"<title>{escape(title)}</title><link>{escape(self.url('/'))}</link>",
                f"<description>{escape(description)}</description><language>en</language>",
                *items,
                "</channel></rss>",
            ]
        )
        return web.Response(body=body.encode(), content_type="application/rss+xml")

    def _item(self, n: int, title: str, url: str, mime: str, size: int, about: str) -> str:
        when = START + dt.timedelta(days=7 * (n - 1))
        return (
            f"<item><title>{escape(title)}</title><guid>{escape(url)}</guid>"
            f"<pubDate>{format_datetime(when)}</pubDate>"
            f"<description>{escape(about)}</description>"
            f"<itunes:season>1</itunes:season><itunes:episode>{n}</itunes:episode>"
            "<itunes:duration>00:20</itunes:duration>"
            f'<enclosure url={quoteattr(url)} type={quoteattr(mime)} length="{size}"/></item>'
        )

    async def _feed(self, request: web.Request) -> web.Response:
        items = []
        for n in range(1, FEED_EPISODES + 1):
            path = self.media.feed_clip(n)
            rel = path.relative_to(self.media.root).as_posix()
            items.append(
                self._item(
                    n,
                    FEED_TITLES[(n - 1) % len(FEED_TITLES)],
                    self.url("/media/" + quote(rel)),
                    "video/mp4",
                    path.stat().st_size,
                    "Twenty seconds of sky, filmed from the same hill every week.",
                )
            )
        return self._rss(
            "Open Sky", "A weekly video podcast about weather, light and clouds.", items
        )

    async def _hls_feed(self, request: web.Request) -> web.Response:
        items = []
        for n in range(1, HLS_EPISODES + 1):
            rel = (self.media.hls_dir(n) / "master.m3u8").relative_to(self.media.root).as_posix()
            items.append(
                self._item(
                    n,
                    HLS_TITLES[n - 1],
                    self.url("/media/" + quote(rel)),
                    "application/x-mpegURL",
                    0,
                    "A city after dark, streamed as HLS in two qualities.",
                )
            )
        return self._rss("Night Lanes", "Short films of a city after dark (HLS).", items)

    def _index(self, path: str, entries: list[tuple[str, int | None]]) -> web.Response:
        stamp = START.strftime("%d-%b-%Y %H:%M")
        lines = ['<a href="../">../</a>']
        for name, size in entries:
            shown = escape(name)
            pad = " " * max(1, 50 - len(name))
            lines.append(
                f'<a href="{quote(name)}">{shown}</a>{pad}{stamp}   {"-" if size is None else size}'
            )
        body = (
            f"<html><head><title>Index of {escape(path)}</title></head><body>"
            f"<h1>Index of {escape(path)}</h1><hr><pre>"
            + "\n".join(lines)
            + "</pre><hr></body></html>"
        )
        return web.Response(text=body, content_type="text/html")

    async def _listing_root(self, request: web.Request) -> web.Response:
        return self._index("/shows/harbor-walks/", [("Season 01/", None)])

    async def _listing_season(self, request: web.Request) -> web.Response:
        files = [self.media.dir_clip(n) for n in range(1, DIR_EPISODES + 1)]
        return self._index(
            "/shows/harbor-walks/Season 01/", [(p.name, p.stat().st_size) for p in files]
        )

    # --- media --------------------------------------------------------------------------

    async def _dir_file(self, request: web.Request) -> web.StreamResponse:
        return await self._send(
            request, self.media.root / "files" / "Season 01", request.match_info["name"]
        )

    async def _media(self, request: web.Request) -> web.StreamResponse:
        return await self._send(request, self.media.root, request.match_info["path"])

    async def _send(self, request: web.Request, base: Path, rel: str) -> web.StreamResponse:
        root = base.resolve()
        path = (root / rel).resolve()
        if not path.is_relative_to(root) or not path.is_file() or path.name.startswith("."):
            raise web.HTTPNotFound()
        size = path.stat().st_size
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.suffix == ".m3u8":
            mime = "application/vnd.apple.mpegurl"
        elif path.suffix == ".ts":
            mime = "video/mp2t"
        response = web.StreamResponse(headers={"Content-Type": mime})
        response.content_length = size
        await response.prepare(request)
        if request.method == "HEAD":
            return response
        loop = asyncio.get_running_loop()
        started = loop.time()
        sent = 0
        try:
            with path.open("rb") as f:
                while chunk := f.read(CHUNK):
                    await response.write(chunk)
                    sent += len(chunk)
                    ahead = sent / self.rate - (loop.time() - started)
                    if ahead > 0:
                        await asyncio.sleep(ahead)
            await response.write_eof()
        except ConnectionResetError:
            pass  # a probe that read the first bytes, or a download cancelled: fine
        return response
