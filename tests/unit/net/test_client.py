"""HttpClient against real aiohttp servers on 127.0.0.1 (never the internet, no mocks)."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from showkeeper import __version__
from showkeeper.net import (
    BlockedAddressError,
    HttpClient,
    HttpStatusError,
    OutboundConnectionError,
    OutboundError,
    OutboundTimeoutError,
    ResponseTooLargeError,
    TooManyRedirectsError,
    UnsafeURLError,
    parse_retry_after,
)

from .conftest import PAYLOAD, Server, echoed, redirect_to


class StaticResolver(AbstractResolver):
    """Test DNS: fixed answers for made-up names (stands in for a hostile DNS server)."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.lookups: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        if host not in self.table:
            raise OSError(socket.EAI_NONAME, f"unknown test host {host}")
        return [
            ResolveResult(
                hostname=host,
                host=addr,
                port=port,
                family=socket.AF_INET6 if ":" in addr else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for addr in self.table[host]
        ]

    async def close(self) -> None:
        pass


async def test_fetch_200_with_body(client: HttpClient, server: Server) -> None:
    result = await client.fetch(server.url("/ok"))
    assert result.status == 200
    assert result.body == b"hello"
    assert result.url == server.url("/ok")
    assert result.not_modified is False
    assert result.etag == '"v1"'
    assert result.headers["etag"] == '"v1"'  # case-insensitive


async def test_default_user_agent(client: HttpClient, server: Server) -> None:
    result = await client.fetch(server.url("/headers"))
    assert echoed(result.body)["user-agent"] == f"showkeeper/{__version__}"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_loopback_refused_without_allowed_networks(server: Server, host: str) -> None:
    url = f"http://{host}:{server.port}/ok"
    async with HttpClient() as client:
        with pytest.raises(BlockedAddressError) as info:
            await client.fetch(url)
    message = str(info.value)
    assert "loopback address" in message
    assert f"for {url}" in message
    assert "allowed_private_networks" in message
    assert "SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS" in message
    assert server.hits["ok"] == 0


async def test_guard_runs_on_resolved_addresses(server: Server) -> None:
    """A public-looking name that resolves to loopback is refused at connect time."""
    dns = StaticResolver({"feeds.example.test": ["127.0.0.1"]})
    url = f"http://feeds.example.test:{server.port}/ok"
    async with HttpClient(resolver=dns) as client:
        with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.1 \(loopback address\) for"):
            await client.fetch(url)
    assert dns.lookups == ["feeds.example.test"]
    assert server.hits["ok"] == 0
    async with HttpClient(resolver=dns, allowed_networks=["127.0.0.0/8"]) as client:
        assert (await client.fetch(url)).body == b"hello"


async def test_blocked_answers_are_filtered_not_dialled(server: Server) -> None:
    dns = StaticResolver({"mixed.example.test": ["10.255.255.1", "127.0.0.1"]})
    async with HttpClient(resolver=dns, allowed_networks=["127.0.0.1/32"]) as client:
        result = await client.fetch(f"http://mixed.example.test:{server.port}/ok")
    assert result.body == b"hello"


async def test_redirect_chain_followed(client: HttpClient, server: Server) -> None:
    result = await client.fetch(server.url("/redirect/4"))
    assert result.body == b"landed"
    assert result.url == server.url("/redirect/0")


async def test_too_many_redirects(server: Server) -> None:
    async with HttpClient(allowed_networks=["127.0.0.0/8"], max_redirects=3) as client:
        with pytest.raises(TooManyRedirectsError, match="more than 3") as info:
            await client.fetch(server.url("/redirect/5"))
    assert info.value.loop is False
    assert len(info.value.history) == 5


async def test_redirect_loop(client: HttpClient, server: Server) -> None:
    with pytest.raises(TooManyRedirectsError, match="redirect loop") as info:
        await client.fetch(server.url("/loop-a"))
    assert info.value.loop is True
    assert info.value.history[-1] in {server.url("/loop-a"), server.url("/loop-b")}


@pytest.mark.parametrize(
    "target", ["file:///etc/passwd", "ftp://127.0.0.1/pub", "javascript:alert(1)"]
)
async def test_redirect_to_other_scheme_refused(
    client: HttpClient, server: Server, target: str
) -> None:
    with pytest.raises(UnsafeURLError, match=r"redirected to .*which was refused"):
        await client.fetch(redirect_to(server, target))


@pytest.mark.parametrize(
    "target", ["http://127.0.0.2:{port}/ok", "http://169.254.169.254/latest/meta-data/"]
)
async def test_redirect_to_non_allowed_address_refused(
    client: HttpClient, server: Server, target: str
) -> None:
    target = target.format(port=server.port)
    with pytest.raises(BlockedAddressError, match="allowed_private_networks") as info:
        await client.fetch(redirect_to(server, target))
    assert info.value.url == target


async def test_redirect_to_name_resolving_to_non_allowed_address_refused(server: Server) -> None:
    dns = StaticResolver({"cdn.example.test": ["127.0.0.2"]})
    async with HttpClient(resolver=dns, allowed_networks=["127.0.0.1/32"]) as client:
        target = f"http://cdn.example.test:{server.port}/ok"
        with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.2"):
            await client.fetch(redirect_to(server, target))
    assert server.hits["ok"] == 0


async def test_credentials_dropped_on_cross_origin_redirect(
    client: HttpClient, server: Server, other_server: Server
) -> None:
    secret = {"Authorization": "Bearer s3cret", "X-Trace": "1"}
    same = await client.fetch(redirect_to(server, "/headers"), headers=secret)
    assert echoed(same.body)["authorization"] == "Bearer s3cret"
    cross = await client.fetch(redirect_to(server, other_server.url("/headers")), headers=secret)
    assert "authorization" not in echoed(cross.body)
    assert echoed(cross.body)["x-trace"] == "1"


async def test_conditional_get_not_modified(client: HttpClient, server: Server) -> None:
    first = await client.fetch(server.url("/etag"))
    assert first.body == b"<rss/>"
    assert first.last_modified == "Mon, 01 Jan 2024 00:00:00 GMT"
    again = await client.fetch(
        server.url("/etag"), etag=first.etag, last_modified=first.last_modified
    )
    assert again.not_modified is True
    assert again.status == 304
    assert again.body == b""
    assert again.etag == '"v1"'
    assert again.last_modified == first.last_modified  # carried over when the 304 omits it
    assert server.hits["etag"] == 2


async def test_429_with_retry_after_then_success(client: HttpClient, server: Server) -> None:
    result = await client.fetch(server.url("/flaky429"))
    assert result.body == b"finally"
    assert server.hits["flaky429"] == 2


async def test_503_forever_raises_after_retries(client: HttpClient, server: Server) -> None:
    with pytest.raises(HttpStatusError) as info:
        await client.fetch(server.url("/always503"), retries=2)
    assert info.value.status == 503
    assert info.value.url == server.url("/always503")
    assert "after 3 attempts" in str(info.value)
    assert server.hits["always503"] == 3


async def test_404_not_retried(client: HttpClient, server: Server) -> None:
    with pytest.raises(HttpStatusError, match="404 Not Found") as info:
        await client.fetch(server.url("/notfound"))
    assert info.value.status == 404
    assert server.hits["notfound"] == 1


@pytest.mark.parametrize("path", ["/big", "/big-chunked"])
async def test_body_over_max_bytes_refused(client: HttpClient, server: Server, path: str) -> None:
    with pytest.raises(ResponseTooLargeError, match="4096-byte limit"):
        await client.fetch(server.url(path), max_bytes=4096)
    assert len((await client.fetch(server.url(path), max_bytes=5000)).body) == 5000


@pytest.mark.parametrize("path", ["/stall", "/stall-body"])
async def test_stalled_server_times_out(client: HttpClient, server: Server, path: str) -> None:
    with pytest.raises(OutboundTimeoutError) as info:
        await client.fetch(server.url(path))
    assert info.value.url == server.url(path)
    assert "timed out after 0.3s" in str(info.value)


async def test_connection_refused(client: HttpClient) -> None:
    with socket.socket() as sock:  # grab a free port, then close it so nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(OutboundConnectionError, match="could not connect"):
        await client.fetch(f"http://127.0.0.1:{port}/", retries=0)


async def test_stream_range_request(client: HttpClient, server: Server) -> None:
    async with client.stream(server.url("/range"), headers={"Range": "bytes=100-1123"}) as resp:
        assert resp.status == 206
        data = b"".join([chunk async for chunk in resp.content.iter_chunked(256)])
    assert data == PAYLOAD[100:1124]


async def test_stream_follows_redirects_and_does_not_raise_status(
    client: HttpClient, server: Server
) -> None:
    async with client.stream(redirect_to(server, "/notfound")) as resp:
        assert resp.status == 404
        assert str(resp.url) == server.url("/notfound")


async def test_stream_read_errors_become_outbound_errors(
    client: HttpClient, server: Server
) -> None:
    with pytest.raises(OutboundTimeoutError):
        async with client.stream(server.url("/stall-body")) as resp:
            await resp.content.read()


async def test_head_follows_redirects(client: HttpClient, server: Server) -> None:
    url, status, headers = await client.head(server.url("/redirect/2"))
    assert url == server.url("/redirect/0")
    assert status == 200
    assert int(headers["Content-Length"]) == len(b"landed")


async def test_303_turns_post_into_get(client: HttpClient, server: Server) -> None:
    async with client.stream(redirect_to(server, "/headers", 303), method="POST") as resp:
        assert (await resp.json())["method"] == "GET"


async def test_per_host_limit(server: Server) -> None:
    async with HttpClient(allowed_networks=["127.0.0.1/32"], per_host_limit=2) as client:
        await asyncio.gather(*(client.fetch(server.url("/slow")) for _ in range(6)))
    assert server.max_inflight == 2


async def test_client_must_be_opened() -> None:
    client = HttpClient()
    with pytest.raises(RuntimeError, match="not open"):
        await client.fetch("https://example.com/")
    await client.close()


def test_invalid_allowed_network_names_setting() -> None:
    with pytest.raises(ValueError, match="allowed_private_networks"):
        HttpClient(allowed_networks=["my-lan"])


def test_errors_share_a_base() -> None:
    for cls in (
        BlockedAddressError,
        HttpStatusError,
        OutboundConnectionError,
        OutboundTimeoutError,
        ResponseTooLargeError,
        TooManyRedirectsError,
        UnsafeURLError,
    ):
        assert issubclass(cls, OutboundError)
    assert not issubclass(OutboundError, aiohttp.ClientError)


def test_parse_retry_after() -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_retry_after("0") == 0
    assert parse_retry_after(" 120 ") == 120
    assert (
        parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30
    )
    assert (
        parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0
    )
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
