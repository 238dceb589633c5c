"""Fixtures for the outbound HTTP stack: a real aiohttp server on 127.0.0.1, never the internet."""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

from showkeeper.net import HttpClient

PAYLOAD = bytes(range(256)) * 40  # 10240 bytes, served by /range


@pytest.fixture(autouse=True)
def _fail_on_unclosed_sessions(request: pytest.FixtureRequest) -> Iterator[None]:
    """aiohttp reports leaked sessions/connectors as ResourceWarning from __del__: fail on it."""
    if not inspect.iscoroutinefunction(request.function):
        yield  # only async tests can open sessions; skip the (slow) full gc for the rest
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield
        gc.collect()
    leaks = [str(w.message) for w in caught if "Unclosed" in str(w.message)]
    assert not leaks, f"unclosed aiohttp resources: {leaks}"


@dataclass
class Server:
    server: TestServer
    hits: Counter[str] = field(default_factory=Counter)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    inflight: int = 0
    max_inflight: int = 0

    @property
    def port(self) -> int:
        assert self.server.port is not None
        return self.server.port

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _make_app(state: Server) -> web.Application:
    routes = web.RouteTableDef()

    @routes.get("/ok")
    async def ok(request: web.Request) -> web.Response:
        state.hits["ok"] += 1
        return web.Response(body=b"hello", headers={"ETag": '"v1"'})

    @routes.route("*", "/headers")
    async def headers(request: web.Request) -> web.Response:
        return web.json_response({"method": request.method, "headers": dict(request.headers)})

    @routes.get("/etag")
    async def etag(request: web.Request) -> web.Response:
        state.hits["etag"] += 1
        tag = '"v1"'
        if request.headers.get("If-None-Match") == tag:
            return web.Response(status=304, headers={"ETag": tag})
        return web.Response(
            body=b"<rss/>", headers={"ETag": tag, "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"}
        )

    @routes.route("*", "/redirect/{n}")
    async def redirect(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        if n <= 0:
            return web.Response(body=b"landed")
        raise web.HTTPFound(f"/redirect/{n - 1}")

    @routes.get("/loop-a")
    async def loop_a(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop-b")

    @routes.get("/loop-b")
    async def loop_b(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop-a")

    @routes.route("*", "/to")
    async def to(request: web.Request) -> web.Response:
        status = int(request.query.get("status", "302"))
        return web.Response(status=status, headers={"Location": request.query["url"]})

    @routes.get("/flaky429")
    async def flaky429(request: web.Request) -> web.Response:
        state.hits["flaky429"] += 1
        if state.hits["flaky429"] == 1:
            return web.Response(status=429, headers={"Retry-After": "0"})
        return web.Response(body=b"finally")

    @routes.get("/always503")
    async def always503(request: web.Request) -> web.Response:
        state.hits["always503"] += 1
        return web.Response(status=503, text="down")

    @routes.get("/notfound")
    async def notfound(request: web.Request) -> web.Response:
        state.hits["notfound"] += 1
        return web.Response(status=404)

    @routes.get("/big")
    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 5000)

    @routes.get("/big-chunked")
    async def big_chunked(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for _ in range(10):
            await resp.write(b"y" * 500)
        await resp.write_eof()
        return resp

    @routes.get("/stall")
    async def stall(request: web.Request) -> web.Response:
        await asyncio.wait_for(state.release.wait(), 5)
        return web.Response(body=b"late")

    @routes.get("/stall-body")
    async def stall_body(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_length = 1000
        await resp.prepare(request)
        await resp.write(b"z" * 100)
        await asyncio.wait_for(state.release.wait(), 5)
        return resp

    @routes.get("/range")
    async def range_(request: web.Request) -> web.Response:
        spec = request.headers.get("Range")
        if spec is None:
            return web.Response(body=PAYLOAD, headers={"Accept-Ranges": "bytes"})
        first, _, last = spec.removeprefix("bytes=").partition("-")
        start, end = int(first), int(last) if last else len(PAYLOAD) - 1
        return web.Response(
            status=206,
            body=PAYLOAD[start : end + 1],
            headers={"Content-Range": f"bytes {start}-{end}/{len(PAYLOAD)}"},
        )

    @routes.get("/slow")
    async def slow(request: web.Request) -> web.Response:
        state.inflight += 1
        state.max_inflight = max(state.max_inflight, state.inflight)
        await asyncio.sleep(0.05)
        state.inflight -= 1
        return web.Response(body=b"done")

    app = web.Application()
    app.add_routes(routes)
    return app


async def _start() -> Server:
    state = Server(server=None)  # type: ignore[arg-type]
    state.server = TestServer(_make_app(state), host="127.0.0.1", port=0)
    await state.server.start_server()
    return state


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = await _start()
    yield state
    state.release.set()
    await state.server.close()


@pytest.fixture
async def other_server() -> AsyncIterator[Server]:
    state = await _start()
    yield state
    state.release.set()
    await state.server.close()


@pytest.fixture
async def client() -> AsyncIterator[HttpClient]:
    async with HttpClient(
        allowed_networks=["127.0.0.1/32"],
        backoff_base=0.001,
        backoff_cap=0.01,
        read_timeout=0.3,
        connect_timeout=2,
    ) as c:
        yield c


def echoed(body: bytes) -> dict[str, str]:
    data = json.loads(body)
    return {k.lower(): v for k, v in data["headers"].items()}


def redirect_to(server: Server, target: str, status: int = 302) -> str:
    """URL on ``server`` that answers ``status`` with ``Location: target``."""
    return str(URL(server.url("/to")).with_query(url=target, status=str(status)))
