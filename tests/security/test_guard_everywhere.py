"""Item 1: every outbound request showkeeper causes passes the address guard, also those
yt-dlp and apprise make. With allowed_private_networks = 127.0.0.1/32, canaries on [::1]
and 127.0.0.2 must see zero requests on every path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from showkeeper.config import Settings
from showkeeper.domain.candidates import Candidate
from showkeeper.downloads.engine import download
from showkeeper.downloads.transfer import AllCandidatesFailed
from showkeeper.net import HttpClient
from showkeeper.sources.base import SourceEnv, SourceError
from showkeeper.sources.ytdlp_source import YtDlpSource
from tests.integration.downloads.servers import media_bytes
from tests.security.canary import Canary

ONLY_127_0_0_1 = "127.0.0.1/32"


@pytest.fixture
async def canary() -> AsyncIterator[Canary]:
    bird = Canary()
    await bird.start(media_bytes(50_000))
    yield bird
    await bird.stop()


async def origin(canary: Canary) -> tuple[web.AppRunner, str]:
    """The allowed server (127.0.0.1): pages, playlists and redirects towards the canaries."""
    v6, v4 = canary.urls["v6"], canary.urls["v4"]

    async def handle(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        target = v6 if name.endswith("-v6") else v4
        kind = name.rsplit("-", 1)[0]
        if kind == "redirect":
            raise web.HTTPFound(f"{target}/episode.mp4")
        if kind == "embed":
            html = f'<html><body><video src="{target}/episode.mp4"></video></body></html>'
            return web.Response(text=html, content_type="text/html")
        if kind == "master":
            text = f"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=100000\n{target}/media.m3u8\n"
        elif kind == "segment":
            text = (
                f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{target}/seg.ts\n#EXT-X-ENDLIST\n"
            )
        elif kind == "key":
            text = (
                f'#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-KEY:METHOD=AES-128,URI="{target}/k"\n'
                "#EXTINF:1,\nseg.ts\n#EXT-X-ENDLIST\n"
            )
        else:
            raise web.HTTPNotFound()
        return web.Response(text=text, content_type="application/vnd.apple.mpegurl")

    async def segment(_request: web.Request) -> web.Response:
        return web.Response(body=(b"\x47" + bytes(187)) * 10, content_type="video/mp2t")

    app = web.Application()
    app.router.add_get("/seg.ts", segment)
    app.router.add_get("/{name}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


@pytest.fixture
def guarded(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "allowed_private_networks": Settings(
                allowed_private_networks=ONLY_127_0_0_1
            ).allowed_private_networks
        }
    )


@pytest.mark.parametrize("family", ["v6", "v4"])
async def test_downloads_never_reach_the_canaries(
    canary: Canary, guarded: Settings, library_dir: Path, family: str
) -> None:
    runner, base = await origin(canary)
    cases = [
        (f"{base}/redirect-{family}", "direct"),
        (f"{base}/master-{family}", "hls"),
        (f"{base}/segment-{family}", "hls"),
        (f"{base}/key-{family}", "hls"),
        (f"{base}/embed-{family}", "page"),
        (f"{base}/redirect-{family}", "page"),
    ]
    try:
        async with HttpClient(allowed_networks=[ONLY_127_0_0_1]) as client:
            for n, (url, kind) in enumerate(cases):
                with pytest.raises(AllCandidatesFailed):
                    await download(
                        [Candidate(url, kind=kind)],  # type: ignore[arg-type]
                        library_dir / f"ep{n}.mp4",
                        client=client,
                        settings=guarded,
                    )
    finally:
        await runner.cleanup()
    assert canary.hits == []
    assert [p for p in library_dir.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("family", ["v6", "v4"])
async def test_a_ytdlp_source_never_reaches_the_canaries(
    canary: Canary, guarded: Settings, family: str
) -> None:
    runner, base = await origin(canary)
    try:
        async with HttpClient(allowed_networks=[ONLY_127_0_0_1]) as client:
            source = YtDlpSource(SourceEnv(client=client, settings=guarded))
            for name in (f"redirect-{family}", f"embed-{family}"):
                with pytest.raises(SourceError):
                    await source.probe(f"{base}/{name}")
    finally:
        await runner.cleanup()
    assert canary.hits == []


async def test_notifications_never_reach_the_canaries(
    canary: Canary, api: httpx.AsyncClient, app: object
) -> None:
    ctx = app.state.ctx  # type: ignore[attr-defined]
    ctx.settings = ctx.settings.model_copy(
        update={
            "allowed_private_networks": Settings(
                allowed_private_networks=ONLY_127_0_0_1
            ).allowed_private_networks
        }
    )
    urls = [
        f"json://{canary.urls['v6'].removeprefix('http://')}/notify",
        f"json://{canary.urls['v4'].removeprefix('http://')}/notify",
    ]
    resp = await api.post("/api/notifications/test", json={"urls": urls})
    assert resp.status_code == 200, resp.text
    assert resp.json()["sent"] == 0
    assert all("not allowed" in failed for failed in resp.json()["failed"])
    assert canary.hits == []


async def test_source_add_and_refresh_never_reach_the_canaries(
    canary: Canary, api: httpx.AsyncClient, app: object
) -> None:
    from tests.integration.sources.test_api import wait_done
    from tests.sources_docs import podcast_item, podcast_rss

    ctx = app.state.ctx  # type: ignore[attr-defined]
    ctx.settings = ctx.settings.model_copy(
        update={
            "allowed_private_networks": Settings(
                allowed_private_networks=ONLY_127_0_0_1
            ).allowed_private_networks
        }
    )
    state = {"redirect": False}

    async def feed(request: web.Request) -> web.StreamResponse:
        if state["redirect"]:
            raise web.HTTPFound(f"{canary.urls['v6']}/feed.xml")
        return web.Response(body=podcast_rss([podcast_item(1)]), content_type="application/rss+xml")

    async def away(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"{canary.urls[request.match_info['family']]}/feed.xml")

    origin_app = web.Application()
    origin_app.router.add_get("/feed.xml", feed)
    origin_app.router.add_get("/away-{family}.xml", away)
    runner = web.AppRunner(origin_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    try:
        for family in ("v6", "v4"):  # add: the first fetch redirects to a canary
            key = (await api.post("/api/series", json={"url": f"{base}/away-{family}.xml"})).json()[
                "key"
            ]
            assert (await wait_done(api, key))["status"] == "failed"
        key = (await api.post("/api/series", json={"url": f"{base}/feed.xml"})).json()["key"]
        assert (await wait_done(api, key))["status"] == "completed"
        state["redirect"] = True  # refresh: the feed now redirects to a canary
        resp = await api.post(f"/api/series/{key}/refresh")
        assert resp.status_code in (200, 202), resp.text
        await asyncio.sleep(1)
    finally:
        await runner.cleanup()
    assert canary.hits == []
