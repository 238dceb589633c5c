"""One local aiohttp server for the metadata tests: a TMDB-shaped API (answers from
tests/fixtures/tmdb, see its README), TMDB's image host, and pages (feeds, listings, channel
pages, images) the test puts. Images are made with Pillow at test time.

Shared by tests/integration/metadata, tests/integration/web and bench/metadata.py.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web
from aiohttp.test_utils import TestServer
from PIL import Image

FIXTURES = Path(__file__).parent / "fixtures" / "tmdb"
API_KEY = "0123456789abcdef0123456789abcdef"
V4_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJ0ZXN0In0.c2lnbmF0dXJl"
TMDB_ID = 90210


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def jpeg(width: int = 400, height: int = 600, color: tuple[int, int, int] = (30, 90, 160)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG", quality=80)
    return out.getvalue()


def png(width: int = 500, height: int = 200, alpha: bool = True) -> bytes:
    out = io.BytesIO()
    mode, color = ("RGBA", (250, 250, 250, 128)) if alpha else ("RGB", (250, 250, 250))
    Image.new(mode, (width, height), color).save(out, "PNG")
    return out.getvalue()


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class MetaSite:
    """Routes: /3/... (TMDB API), /t/p/<size>/<file> (TMDB images), anything else from pages."""

    pages: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    tmdb_script: dict[str, list[Answer]] = field(default_factory=dict)
    tmdb_delay: float = 0.0
    tmdb_requests: list[str] = field(default_factory=list)
    tmdb_queries: list[dict[str, str]] = field(default_factory=list)
    auth_seen: list[str] = field(default_factory=list)
    server: TestServer | None = None
    tv_overrides: dict[str, Any] = field(default_factory=dict)
    search_results: list[dict[str, Any]] | None = None

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}"

    @property
    def tmdb_url(self) -> str:
        return f"{self.base}/3"

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def put(self, path: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        self.pages[path] = (body, content_type)

    async def start(self) -> MetaSite:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.server = TestServer(app, host="127.0.0.1", port=0)
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.hits[request.path] += 1
        if request.path.startswith("/3/"):
            return await self._tmdb(request)
        if request.path.startswith("/t/p/"):
            return self._tmdb_image(request.path)
        if request.path == "/redirect-private":
            raise web.HTTPFound("http://169.254.169.254/latest/meta-data/poster.jpg")
        if request.path == "/huge.jpg":
            return await self._huge(request)
        page = self.pages.get(request.path)
        if page is None:
            return web.Response(status=404, text="not found")
        return web.Response(body=page[0], headers={"Content-Type": page[1]})

    async def _huge(self, request: web.Request) -> web.StreamResponse:
        """A "poster" of 200 MB: a JPEG header, then padding, without a Content-Length."""
        resp = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        try:
            await resp.write(jpeg(64, 64)[:200])
            chunk = b"\0" * (1024 * 1024)
            for _ in range(200):
                await resp.write(chunk)
        except (ConnectionResetError, RuntimeError):
            pass
        return resp

    def _tmdb_image(self, path: str) -> web.Response:
        name = path.rsplit("/", 1)[-1]
        if "Logo" in name:
            return web.Response(body=png(500, 200), headers={"Content-Type": "image/png"})
        if "Backdrop" in name:
            return web.Response(
                body=jpeg(1280, 720, (10, 40, 60)), headers={"Content-Type": "image/jpeg"}
            )
        if "Still" in name:
            return web.Response(
                body=jpeg(640, 360, (90, 60, 30)), headers={"Content-Type": "image/jpeg"}
            )
        if name.endswith(".jpg"):
            return web.Response(body=jpeg(400, 600), headers={"Content-Type": "image/jpeg"})
        return web.Response(status=404)

    async def _tmdb(self, request: web.Request) -> web.Response:
        path = request.path[2:]  # "/3/tv/1" -> "/tv/1"
        self.tmdb_requests.append(path)
        self.tmdb_queries.append({k: v for k, v in request.query.items() if k != "api_key"})
        self.auth_seen.append(
            request.headers.get("Authorization") or f"api_key={request.query.get('api_key')}"
        )
        if self.tmdb_delay:
            await asyncio.sleep(self.tmdb_delay)
        script = self.tmdb_script.get(path)
        if script:
            answer = script.pop(0)
            return web.Response(status=answer.status, body=answer.body, headers=answer.headers)
        key_ok = (
            request.query.get("api_key") == API_KEY
            or request.headers.get("Authorization") == f"Bearer {V4_TOKEN}"
        )
        if not key_ok:
            return web.json_response(fixture("error_401.json"), status=401)
        data = self._answer(path, request.query.get("query"))
        if data is None:
            return web.json_response(fixture("error_404.json"), status=404)
        return web.json_response(data)

    def _answer(self, path: str, query: str | None) -> dict[str, Any] | None:
        tv = f"/tv/{TMDB_ID}"
        if path == "/configuration":
            data = fixture("configuration.json")
            data["images"]["secure_base_url"] = data["images"]["base_url"] = f"{self.base}/t/p/"
            return data
        if path == "/search/tv":
            data = fixture("search_tv.json")
            if self.search_results is not None:
                data["results"] = self.search_results
            words = (query or "").lower().split()
            data["results"] = [
                r for r in data["results"] if all(w in r["name"].lower() for w in words)
            ]
            data["total_results"] = len(data["results"])
            return data
        if path == tv:
            return {**fixture("tv.json"), **self.tv_overrides}
        if path == f"{tv}/images":
            return fixture("images.json")
        if path == f"{tv}/season/1":
            return fixture("season_1.json")
        if path in ("/tv/90211", "/tv/90212"):  # the other search results
            other = fixture("tv.json")
            other.update(id=int(path[4:]), name=f"Other {path[4:]}", seasons=[])
            return other
        if path.startswith("/tv/") and path.endswith("/images"):
            return {"id": 1, "backdrops": [], "logos": [], "posters": []}
        return None


def day(n: int) -> datetime:
    return datetime(2017, 12, 1, 20, tzinfo=UTC) + timedelta(days=7 * (n - 1))


def show_feed(
    site: MetaSite,
    *,
    title: str = "Kestrel Bay",
    episodes: int = 2,
    channel_image: str | None = "/art/cover.jpg",
    item_images: bool = True,
    extra_channel: str = "",
) -> bytes:
    """A podcast-style video feed with itunes:image, author, categories, per-item images."""
    items = []
    for n in range(episodes, 0, -1):
        image = f'<itunes:image href="{site.url(f"/art/ep{n}.jpg")}"/>' if item_images else ""
        items.append(
            f'<item><title>Episode {n}</title><guid isPermaLink="false">kestrel-{n}</guid>'
            f"<pubDate>{format_datetime(day(n))}</pubDate>"
            f"<description>Plot of episode {n} &amp; more.</description>{image}"
            f"<itunes:episode>{n}</itunes:episode><itunes:season>1</itunes:season>"
            f'<enclosure url="{site.url(f"/media/ep{n}.mp4")}" length="1000" type="video/mp4"/>'
            "</item>"
        )
    image = f'<itunes:image href="{site.url(channel_image)}"/>' if channel_image is not None else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>'
        f"<title>{escape(title)}</title><link>{site.url('/')}</link>"
        "<description>The town's own podcast of the series.</description>"
        "<itunes:author>Harbour Radio</itunes:author>"
        '<itunes:category text="Fiction"><itunes:category text="Drama"/></itunes:category>'
        f"{image}{extra_channel}{''.join(items)}</channel></rss>"
    ).encode()


async def start_site() -> MetaSite:
    return await MetaSite().start()
