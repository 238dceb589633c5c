"""A real showkeeper (uvicorn on 127.0.0.1, in a thread of its own, workers on) and a podcast
site with real media made by ffmpeg, for the Sonarr v3 API tests.

The feed "Arr Show" has: S01E01 (320x240, French audio, English subtitles), S01E02
(640x360), S01E03 (large and served slowly: it stays in the queue while a test looks),
S01E04 (airs in ten days: in the calendar, never missing yet).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn

from showkeeper.config import Settings
from showkeeper.ffmpeg import ffmpeg_exe
from tests.compat.sonarr import check_response
from tests.conftest import TEST_PASSWORD, free_port
from tests.e2e.podcast_site import Enclosure, Item, ThreadedSite, rss
from tests.integration.downloads.servers import Resource, make_media

T = TypeVar("T")
SHOW = "Arr Show"
SLOW_RATE = 200_000  # bytes per second for S01E03


def _make_ep1(path: Path) -> Path:
    """320x240 video, French audio, an English subtitle track."""
    srt = path.with_suffix(".srt")
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nHello\n")
    subprocess.run(
        [
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
            "-i", str(srt), "-t", "2",
            "-map", "0:v", "-map", "1:a", "-map", "2:s",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-c:s", "mov_text",
            "-metadata:s:a:0", "language=fre", "-metadata:s:s:0", "language=eng",
            str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def _make_big(path: Path) -> Path:
    """Incompressible video, a few MB: a download of it takes a while at SLOW_RATE."""
    subprocess.run(
        [
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25,noise=alls=80:allf=t+u",
            "-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "10",
            "-pix_fmt", "yuv420p", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(scope="session")
def arr_media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    media = tmp_path_factory.mktemp("arr-media")
    _make_ep1(media / "e1.mp4")
    make_media(media / "e2.mp4", seconds=1.5, size="640x360")
    _make_big(media / "e3.mp4")
    make_media(media / "e4.mp4", seconds=1)
    return media


@dataclass
class ArrSite:
    feed_url: str
    threaded: ThreadedSite
    future_air_date: str
    search_url: str


def _rfc2822(when: datetime) -> str:
    return format_datetime(when, usegmt=True)


@pytest.fixture
def arr_site(arr_media: Path) -> Iterator[ArrSite]:
    site = ThreadedSite().start()
    try:
        site.add_dir("/media", arr_media)
        big = arr_media / "e3.mp4"
        site.server.add(
            "/slow/e3.mp4", Resource(body=big, content_type="video/mp4", rate=SLOW_RATE)
        )
        future = datetime.now(UTC).replace(hour=10, minute=0, second=0) + timedelta(days=10)

        def enc(path: str, file: Path) -> Enclosure:
            return Enclosure(site.url(path), length=file.stat().st_size)

        items = [
            Item(
                "Pilot",
                1,
                1,
                (enc("/media/e1.mp4", arr_media / "e1.mp4"),),
                "Mon, 01 Jan 2024 10:00:00 GMT",
            ),
            Item(
                "Second",
                1,
                2,
                (enc("/media/e2.mp4", arr_media / "e2.mp4"),),
                "Mon, 08 Jan 2024 10:00:00 GMT",
            ),
            Item(
                "Slow <b>One</b>",
                1,
                3,
                (enc("/slow/e3.mp4", big),),
                "Mon, 15 Jan 2024 10:00:00 GMT",
            ),
            Item("Future", 1, 4, (enc("/media/e4.mp4", arr_media / "e4.mp4"),), _rfc2822(future)),
        ]
        url = site.add("/feed.xml", rss(SHOW, items), "application/rss+xml")
        directory = {  # the iTunes Search API's shape: series/lookup?term= searches it
            "resultCount": 1,
            "results": [
                {
                    "collectionName": SHOW,
                    "feedUrl": url,
                    "artistName": "Arr Studio",
                    "artworkUrl600": site.url("/art.jpg"),
                    "trackCount": 4,
                    "primaryGenreName": "TV & Film",
                }
            ],
        }
        search = site.add("/search", json.dumps(directory).encode(), "application/json")
        yield ArrSite(url, site, future.date().isoformat(), search)
    finally:
        site.stop()


@dataclass
class ArrServer:
    url: str
    api_key: str
    settings: Settings
    app: Any
    checked: set[str]
    """Operation templates whose responses were validated against Sonarr's schemas."""

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client with the key in X-Api-Key whose JSON answers are validated."""
        kwargs.setdefault("headers", {"X-Api-Key": self.api_key})
        return httpx.Client(
            base_url=self.url,
            timeout=30,
            event_hooks={"response": [self.validate_httpx]},
            **kwargs,
        )

    def validate(self, method: str, path: str, status: int, body: Any) -> None:
        template = check_response(method, path, status, body)
        if template is not None and status < 300:
            self.checked.add(f"{method.upper()} {template}")

    def validate_httpx(self, response: httpx.Response) -> None:
        request = response.request
        if not request.url.path.startswith("/api/v3/"):
            return
        response.read()
        if "json" in response.headers.get("content-type", ""):
            self.validate(request.method, request.url.path, response.status_code, response.json())

    def validate_requests(self, response: Any, *_args: Any, **_kwargs: Any) -> None:
        """A requests response hook (pyarr's session)."""
        path = httpx.URL(response.url).path
        if path.startswith("/api/v3/") and "json" in response.headers.get("content-type", ""):
            self.validate(response.request.method, path, response.status_code, response.json())

    @property
    def ctx(self) -> Any:
        return self.app.state.ctx


def _serve(server: uvicorn.Server) -> None:
    asyncio.run(server.serve())


@pytest.fixture
def arr_settings(settings: Settings, arr_site: ArrSite) -> Settings:
    return settings.model_copy(
        update={
            "download_workers_in_server": True,
            "download_retry_base_s": 0.2,
            "itunes_search_url": arr_site.search_url,
        }
    )


@pytest.fixture
def arr_server(arr_settings: Settings) -> Iterator[ArrServer]:
    from showkeeper.web.app import create_app

    app = create_app(arr_settings)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=_serve, args=(server,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        assert time.monotonic() < deadline, "the server did not start in 30 s"
        time.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    try:
        assert arr_settings.library_dir is not None
        resp = httpx.post(
            f"{url}/api/auth/setup",
            json={"password": TEST_PASSWORD, "library_dir": str(arr_settings.library_dir)},
            timeout=30,
        )
        assert resp.status_code == 201, resp.text
        yield ArrServer(url, resp.json()["api_key"], arr_settings, app, set())
    finally:
        server.should_exit = True
        thread.join(30)


def wait_for(check: Callable[[], T | None], *, timeout: float = 60, what: str = "") -> T:
    """Poll ``check`` until it answers something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.1)
