"""A real aiohttp site on 127.0.0.1 for the source tests, and media made by ffmpeg."""

from __future__ import annotations

import asyncio
import subprocess
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from showkeeper.config import Settings
from showkeeper.ffmpeg import ffmpeg_exe


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Short timeouts so the timeout cases end quickly; tiny size cap for the size case."""
    return settings.model_copy(update={"source_timeout_s": 1.0, "source_max_response_mb": 20})


@dataclass
class Page:
    body: bytes
    content_type: str = "application/xml"
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class Site:
    """Pages by path, with hit counts, conditional GET and a few misbehaving routes."""

    pages: dict[str, Page] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    conditional_hits: Counter[str] = field(default_factory=Counter)
    inflight: int = 0
    max_inflight: int = 0
    delay: float = 0.0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    server: TestServer | None = None
    status_script: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}{path}"

    def put(
        self,
        path: str,
        body: bytes,
        content_type: str = "application/xml",
        *,
        etag: str | None = None,
    ) -> None:
        self.pages[path] = Page(body, content_type, etag=etag)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.hits[path] += 1
        self.inflight += 1
        self.max_inflight = max(self.max_inflight, self.inflight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            return await self._answer(request, path)
        finally:
            self.inflight -= 1

    async def _answer(self, request: web.Request, path: str) -> web.StreamResponse:
        script = self.status_script.get(path)
        if script:
            status, headers = script.pop(0)
            return web.Response(status=status, headers=headers, text="scripted")
        if path == "/loop-a":
            raise web.HTTPFound("/loop-b")
        if path == "/loop-b":
            raise web.HTTPFound("/loop-a")
        if path == "/stall":
            await asyncio.wait_for(self.release.wait(), 10)
            return web.Response(text="late")
        if path == "/huge.xml":  # 30 MB announced and sent
            resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
            resp.content_length = 30 * 1024 * 1024
            await resp.prepare(request)
            chunk = b" " * (1024 * 1024)
            try:
                for _ in range(30):
                    await resp.write(chunk)
            except (ConnectionResetError, RuntimeError):
                pass
            return resp
        if path == "/huge-chunked.xml":  # 30 MB without a Content-Length
            resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            try:
                await resp.write(
                    b"<?xml version='1.0'?><rss version='2.0'><channel><title>x</title>"
                )
                for _ in range(30):
                    await resp.write(b"<!-- padding -->" * 65536)
            except (ConnectionResetError, RuntimeError):
                pass
            return resp
        page = self.pages.get(path)
        if page is None:
            return web.Response(status=404, text="not found")
        if page.etag and request.headers.get("If-None-Match") == page.etag:
            self.conditional_hits[path] += 1
            return web.Response(status=304, headers={"ETag": page.etag})
        headers = {"Content-Type": page.content_type}
        if page.etag:
            headers["ETag"] = page.etag
        return web.Response(body=page.body, headers=headers)


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    state = Site()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", state.handle)
    state.server = TestServer(app, host="127.0.0.1", port=0)
    await state.server.start_server()
    yield state
    state.release.set()
    await state.server.close()


@pytest.fixture(scope="session")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Three tiny real MP4 files made by ffmpeg (made once per test session)."""
    folder = tmp_path_factory.mktemp("media")
    out: dict[str, bytes] = {}
    for n in (1, 2, 3):
        path = folder / f"ep{n}.mp4"
        subprocess.run(
            [
                ffmpeg_exe(),
                "-loglevel",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                f"testsrc=size=64x48:rate={4 + n}",
                "-t",
                "1",
                "-pix_fmt",
                "yuv420p",
                "-metadata",
                f"title=Episode {n}",
                str(path),
            ],
            check=True,
            timeout=60,
        )
        out[path.name] = path.read_bytes()
    return out


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_server_dir(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """Python's real http.server serving a folder, in a thread: (folder, base URL)."""
    root = tmp_path / "served"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
