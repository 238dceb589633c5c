"""The feed server of bench/peer_feed.py: what it serves and what it counts."""

from __future__ import annotations

import asyncio
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.integration.downloads.feed_server import FeedProcess, FeedServer


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "served"
    directory.mkdir()
    for n in range(1, 4):
        (directory / f"episode-{n}.mp4").write_bytes(bytes([n]) * (100_000 + n))
    return directory


@pytest.fixture
async def server(media_dir: Path) -> AsyncIterator[tuple[FeedServer, str]]:
    feed = FeedServer(media_dir, latency=0.0, rate=50_000_000)
    listener = await asyncio.start_server(feed.handle, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}"
    feed.add_feed(base)
    yield feed, base
    listener.close()
    await listener.wait_closed()


async def test_feed_lists_every_file_with_its_length(server: tuple[FeedServer, str]) -> None:
    feed, base = server
    async with aiohttp.ClientSession() as http, http.get(base + "/feed.xml") as resp:
        assert resp.status == 200
        body = await resp.read()
    enclosures = [e.attrib for e in ET.fromstring(body).iter("enclosure")]
    assert [(e["url"], e["type"], e["length"]) for e in enclosures] == [
        (f"{base}/media/episode-{n}.mp4", "video/mp4", str(100_000 + n)) for n in (3, 2, 1)
    ]
    async with aiohttp.ClientSession() as http:
        for n in (1, 2, 3):
            async with http.get(f"{base}/media/episode-{n}.mp4") as resp:
                assert await resp.read() == bytes([n]) * (100_000 + n)
    assert feed.stats.summary()["media_gets"] == 3


async def test_conditional_requests_get_304(server: tuple[FeedServer, str]) -> None:
    feed, base = server
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/feed.xml") as resp:
            etag, modified = resp.headers["ETag"], resp.headers["Last-Modified"]
        async with http.get(base + "/feed.xml", headers={"If-None-Match": etag}) as resp:
            assert resp.status == 304
            assert await resp.read() == b""
        async with http.get(base + "/feed.xml", headers={"If-Modified-Since": modified}) as resp:
            assert resp.status == 304
        async with http.get(base + "/feed.xml", headers={"If-None-Match": '"other"'}) as resp:
            assert resp.status == 200
    summary = feed.stats.summary()
    assert (summary["conditional"], summary["not_modified"]) == (3, 2)


async def test_range_head_and_unknown_paths(server: tuple[FeedServer, str]) -> None:
    feed, base = server
    url = f"{base}/media/episode-2.mp4"
    async with aiohttp.ClientSession() as http:
        async with http.get(url, headers={"Range": "bytes=100000-"}) as resp:
            assert resp.status == 206
            assert resp.headers["Content-Range"] == "bytes 100000-100001/100002"
            assert await resp.read() == b"\x02\x02"
        async with http.head(url) as resp:
            assert (resp.status, resp.headers["Content-Length"]) == (200, "100002")
        async with http.get(base + "/nothing") as resp:
            assert resp.status == 404
    assert feed.stats.summary()["log"] == [
        "GET /media/episode-2.mp4 206",
        "HEAD /media/episode-2.mp4 200",
        "GET /nothing 404",
    ]


async def test_counts_connections_kept_alive_and_concurrent(
    server: tuple[FeedServer, str],
) -> None:
    feed, base = server
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as http:
        for n in (1, 2, 3):
            async with http.get(f"{base}/media/episode-{n}.mp4") as resp:
                await resp.read()
    await asyncio.sleep(0.05)  # the server sees the close
    summary = feed.stats.summary()
    assert (summary["connections"], summary["max_connections"]) == (1, 1)
    feed.stats.reset()

    async def fetch(n: int) -> None:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{base}/media/episode-{n}.mp4") as resp,
        ):
            await resp.read()

    await asyncio.gather(*(fetch(n) for n in (1, 2, 3)))
    summary = feed.stats.summary()
    assert (summary["requests"], summary["connections"]) == (3, 3)
    assert 1 <= summary["max_connections"] <= 3


def test_as_a_process_stats_and_reset(media_dir: Path) -> None:
    feed = FeedProcess(media_dir, latency=0.0, rate=50_000_000)
    try:
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with direct.open(feed.url) as resp:
            assert resp.status == 200
        assert feed.stats()["log"] == ["GET /feed.xml 200"]
        assert feed.ask("reset") == "OK"
        assert feed.stats()["requests"] == 0
    finally:
        feed.close()
