"""The one outbound HTTP client of showkeeper (feeds, directory listings, downloads, TMDB).

:class:`HttpClient` owns a single :class:`aiohttp.ClientSession` whose connector resolves
names through :class:`GuardedResolver`, so the SSRF guard runs at connect time on the
addresses actually dialled (DNS rebinding cannot slip past it). IP-literal hosts never reach
a resolver in aiohttp, so each hop's literal host is checked before the request is sent.
Redirects are followed here, not by aiohttp, so every hop's URL (scheme included) is
re-checked, credentials are dropped when the origin changes, and loops are detected.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import re
import socket
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import ip_network
from types import TracebackType
from typing import Any, Final, Self

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from showkeeper import __version__
from showkeeper.net.errors import (
    ALLOWED_NETWORKS_SETTING,
    BlockedAddressError,
    HttpStatusError,
    OutboundConnectionError,
    OutboundError,
    OutboundTimeoutError,
    ResponseTooLargeError,
    TooManyRedirectsError,
    UnsafeURLError,
)
from showkeeper.net.guard import IPNetwork, check_address, check_url, parse_ip, resolve_and_check

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_USER_AGENT",
    "REDIRECT_STATUSES",
    "FetchResult",
    "GuardedResolver",
    "HttpClient",
    "parse_retry_after",
]

DEFAULT_USER_AGENT: Final = f"showkeeper/{__version__}"
DEFAULT_MAX_BYTES: Final = 10 * 1024 * 1024
KEEPALIVE_S: Final = 60.0
"""How long an idle connection is kept for the next request to its host. aiohttp's 15 s
would let a host's connections go cold between episodes spaced by a politeness delay; a
connection the server closed meanwhile is retried on a new one (idempotent requests)."""
DRAIN_MAX_BYTES: Final = 64 * 1024
"""A body this small is read before release so its connection goes back to the pool (an
unread body closes it)."""
REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
# Dropped from the request when a redirect leaves the original origin.
_CREDENTIAL_HEADERS: Final = ("Authorization", "Proxy-Authorization", "Cookie")
# A URL may appear twice in one chain (A -> B sets a cookie -> A); a third time is a loop.
_MAX_VISITS: Final = 2
_NUMERIC_FLAGS: Final = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
_SECONDS_RE: Final = re.compile(r"^\s*(\d+)\s*$", re.ASCII)


@dataclass(frozen=True, slots=True)
class FetchResult:
    """Outcome of :meth:`HttpClient.fetch`."""

    url: str
    """Final URL, after redirects."""
    status: int
    headers: CIMultiDictProxy[str]
    """Response headers; lookups are case-insensitive."""
    body: bytes
    not_modified: bool
    """True for a 304 answer to a conditional GET (``body`` is then empty)."""
    etag: str | None
    """The response's ETag, or on 304 without one, the ETag that was sent."""
    last_modified: str | None
    """The response's Last-Modified, or on 304 without one, the value that was sent."""

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait according to a ``Retry-After`` value (delta-seconds or HTTP-date)."""
    if value is None:
        return None
    match = _SECONDS_RE.match(value)
    if match is not None:
        return float(match.group(1))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


class GuardedResolver(AbstractResolver):
    """aiohttp resolver that returns only addresses the SSRF guard accepts.

    Wraps another resolver (aiohttp's default unless given) and bounds the lookup by
    ``timeout`` seconds, because aiohttp's connect timeouts do not cover DNS.
    """

    def __init__(
        self,
        allowed_networks: Sequence[IPNetwork],
        *,
        inner: AbstractResolver | None = None,
        timeout: float | None = None,
    ) -> None:
        self._allowed = tuple(allowed_networks)
        self._owns_inner = inner is None
        self._inner: AbstractResolver = aiohttp.DefaultResolver() if inner is None else inner
        self._timeout = timeout

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            async with asyncio.timeout(self._timeout):
                addresses = await resolve_and_check(
                    host, port, self._allowed, resolver=self._inner, family=family
                )
        except TimeoutError:
            raise OutboundTimeoutError(
                None, phase=f"resolving {host}", timeout=self._timeout
            ) from None
        return [
            ResolveResult(
                hostname=host,
                host=str(ip),
                port=port,
                family=socket.AF_INET if ip.version == 4 else socket.AF_INET6,
                proto=0,
                flags=_NUMERIC_FLAGS,
            )
            for ip in addresses
        ]

    async def close(self) -> None:
        if self._owns_inner:
            await self._inner.close()


def _as_network(value: IPNetwork | str) -> IPNetwork:
    if not isinstance(value, str):
        return value
    try:
        return ip_network(value.strip(), strict=False)
    except ValueError:
        raise ValueError(
            f"{value!r} in {ALLOWED_NETWORKS_SETTING} is not a network; use CIDR notation "
            "such as 192.168.1.0/24 or fd00::/8"
        ) from None


class HttpClient:
    """Async context manager owning the shared outbound HTTP session.

    ``async with HttpClient(allowed_networks=...) as client: await client.fetch(url)``
    """

    def __init__(
        self,
        *,
        allowed_networks: Sequence[IPNetwork | str] = (),
        user_agent: str = DEFAULT_USER_AGENT,
        per_host_limit: int = 8,
        total_limit: int = 100,
        connect_timeout: float = 10,
        read_timeout: float = 30,
        max_redirects: int = 10,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        resolver: AbstractResolver | None = None,
        keepalive_s: float = KEEPALIVE_S,
    ) -> None:
        if per_host_limit < 1 or total_limit < 1:
            raise ValueError("per_host_limit and total_limit must be at least 1")
        if max_redirects < 0 or backoff_base < 0 or backoff_cap < 0:
            raise ValueError("max_redirects, backoff_base and backoff_cap must not be negative")
        self.allowed_networks: tuple[IPNetwork, ...] = tuple(
            _as_network(n) for n in allowed_networks
        )
        self.user_agent = user_agent
        self.per_host_limit = per_host_limit
        self.total_limit = total_limit
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_redirects = max_redirects
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.keepalive_s = keepalive_s
        self._inner_resolver = resolver
        self._resolver: GuardedResolver | None = None
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("HttpClient is already open")
        self._resolver = GuardedResolver(
            self.allowed_networks, inner=self._inner_resolver, timeout=self.connect_timeout
        )
        connector = aiohttp.TCPConnector(
            limit=self.total_limit,
            limit_per_host=self.per_host_limit,
            resolver=self._resolver,
            keepalive_timeout=self.keepalive_s,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=self.connect_timeout, sock_read=self.read_timeout
            ),
            headers={"User-Agent": self.user_agent},
            trust_env=False,  # a proxy from the environment would bypass the guard
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session (idempotent)."""
        session, self._session = self._session, None
        resolver, self._resolver = self._resolver, None
        if session is not None:
            await session.close()
        if resolver is not None:
            await resolver.close()

    @property
    def closed(self) -> bool:
        return self._session is None

    # -- public API ---------------------------------------------------------------------

    async def fetch(
        self,
        url: str | URL,
        *,
        headers: Mapping[str, str] | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        etag: str | None = None,
        last_modified: str | None = None,
        retries: int = 3,
    ) -> FetchResult:
        """GET ``url`` into memory, following redirects, retrying 429/5xx.

        Raises :class:`HttpStatusError` for other non-2xx answers (304 is returned with
        ``not_modified=True``), :class:`ResponseTooLargeError` past ``max_bytes``, and the
        other :class:`OutboundError` subclasses for guard, redirect, timeout and connection
        problems.
        """
        request_headers = CIMultiDict(headers or {})
        if etag is not None:
            request_headers["If-None-Match"] = etag
        if last_modified is not None:
            request_headers["If-Modified-Since"] = last_modified
        attempt = 0
        while True:
            resp = await self._open("GET", url, request_headers)
            final = str(resp.url)
            try:
                status = resp.status
                if status == 304:
                    return FetchResult(
                        url=final,
                        status=status,
                        headers=resp.headers,
                        body=b"",
                        not_modified=True,
                        etag=resp.headers.get("ETag", etag),
                        last_modified=resp.headers.get("Last-Modified", last_modified),
                    )
                if status == 429 or status >= 500:
                    await self.drain(resp)  # the retry may reuse the connection
                    if attempt >= retries:
                        raise HttpStatusError(status, final, attempts=attempt + 1)
                    delay = self._retry_delay(attempt, resp.headers.get("Retry-After"))
                elif 200 <= status < 300:
                    body = await self._read_body(resp, final, max_bytes)
                    return FetchResult(
                        url=final,
                        status=status,
                        headers=resp.headers,
                        body=body,
                        not_modified=False,
                        etag=resp.headers.get("ETag"),
                        last_modified=resp.headers.get("Last-Modified"),
                    )
                else:
                    await self.drain(resp)
                    raise HttpStatusError(status, final, attempts=attempt + 1)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                raise self._translate(exc, final) from exc
            finally:
                resp.release()
            await asyncio.sleep(delay)
            attempt += 1

    @asynccontextmanager
    async def stream(
        self,
        url: str | URL,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Open ``url`` (guard and redirects applied) and yield the final response.

        The status is not checked; read with ``resp.content.iter_chunked(n)``. Asks for
        ``Accept-Encoding: identity`` unless told otherwise so Range offsets are byte offsets.
        aiohttp errors raised while reading inside the block become :class:`OutboundError`.
        """
        resp = await self.open(url, method=method, headers=headers)
        try:
            with self.reading(resp):
                yield resp
        finally:
            resp.release()

    async def open(
        self,
        url: str | URL,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
    ) -> aiohttp.ClientResponse:
        """Like :meth:`stream`, for a response that outlives one block (a GET whose headers
        decide what happens to its body).

        The caller MUST ``release()`` the response (a fully read body gives the connection
        back to the pool; an unread one closes it) and SHOULD read it inside
        :meth:`reading`.
        """
        request_headers = CIMultiDict(headers or {})
        request_headers.setdefault("Accept-Encoding", "identity")
        return await self._open(method.upper(), url, request_headers)

    async def drain(self, resp: aiohttp.ClientResponse, max_bytes: int = DRAIN_MAX_BYTES) -> None:
        """Read and drop a small rest of ``resp``'s body (a page, an error, one probed byte)
        so that releasing it keeps the connection; a large or unknown one is left, and
        closes. Errors are ignored: the connection is then closed anyway."""
        length = resp.content_length
        if length is None or length > max_bytes or resp.content.is_eof():
            return
        try:
            async with asyncio.timeout(self.read_timeout):
                await resp.content.read()
        except (aiohttp.ClientError, TimeoutError, OSError):
            pass

    @contextmanager
    def reading(self, resp: aiohttp.ClientResponse) -> Iterator[None]:
        """aiohttp errors raised while reading ``resp`` become :class:`OutboundError`."""
        try:
            yield
        except aiohttp.ClientError as exc:
            raise self._translate(exc, str(resp.url)) from exc

    async def head(
        self, url: str | URL, headers: Mapping[str, str] | None = None
    ) -> tuple[str, int, CIMultiDictProxy[str]]:
        """HEAD ``url`` following redirects; returns (final URL, status, headers)."""
        resp = await self._open("HEAD", url, CIMultiDict(headers or {}))
        resp.release()
        return str(resp.url), resp.status, resp.headers

    # -- internals ----------------------------------------------------------------------

    def _require_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("HttpClient is not open; use `async with HttpClient(...) as c:`")
        return self._session

    async def _open(
        self, method: str, url: str | URL, headers: CIMultiDict[str]
    ) -> aiohttp.ClientResponse:
        """Send the request, following redirects hop by hop; return the final response."""
        session = self._require_session()
        start = check_url(url)
        current = start
        headers = headers.copy()
        history = [str(start)]
        visits = {start: 1}
        while True:
            host = current.raw_host
            literal = parse_ip(host) if host is not None else None
            if literal is not None:
                check_address(literal, self.allowed_networks, url=str(current))
            try:
                resp = await session.request(
                    method, current, headers=headers, allow_redirects=False
                )
            except BlockedAddressError as exc:
                raise exc.for_url(str(current)) from None
            except OutboundTimeoutError as exc:
                raise exc.for_url(str(current)) from None
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                raise self._translate(exc, str(current)) from exc
            location = resp.headers.get("Location")
            if resp.status not in REDIRECT_STATUSES or location is None:
                return resp
            await self.drain(resp)  # the next hop may go to the same host
            resp.release()
            try:
                target = check_url(current.join(URL(location)))
            except (UnsafeURLError, ValueError) as exc:
                raise UnsafeURLError(
                    f"{current} redirected to {location!r}, which was refused: {exc}",
                    url=str(start),
                ) from None
            history.append(str(target))
            visits[target] = visits.get(target, 0) + 1
            if visits[target] > _MAX_VISITS:
                raise TooManyRedirectsError(
                    str(start), limit=self.max_redirects, history=history, loop=True
                )
            if len(history) - 1 > self.max_redirects:
                raise TooManyRedirectsError(
                    str(start), limit=self.max_redirects, history=history, loop=False
                )
            # 303 means "GET the other resource"; browsers also turn POST into GET on 301/302.
            if (resp.status == 303 and method != "HEAD") or (
                resp.status in (301, 302) and method == "POST"
            ):
                method = "GET"
            if target.origin() != current.origin():
                for name in _CREDENTIAL_HEADERS:
                    headers.popall(name, None)
            current = target

    async def _read_body(self, resp: aiohttp.ClientResponse, url: str, max_bytes: int) -> bytes:
        length = resp.content_length
        if length is not None and length > max_bytes:
            raise ResponseTooLargeError(url, limit=max_bytes, size=length)
        chunks: list[bytes] = []
        total = 0
        async for chunk in resp.content.iter_any():
            total += len(chunk)
            if total > max_bytes:
                raise ResponseTooLargeError(url, limit=max_bytes)
            chunks.append(chunk)
        return b"".join(chunks)

    def _retry_delay(self, attempt: int, retry_after: str | None) -> float:
        wanted = parse_retry_after(retry_after)
        if wanted is None:
            wanted = self.backoff_base * (2**attempt)
        return min(self.backoff_cap, wanted)

    def _translate(self, exc: BaseException, url: str) -> OutboundError:
        """Map an aiohttp/OS error to the matching :class:`OutboundError`."""
        if isinstance(exc, OutboundError):
            return exc
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return OutboundTimeoutError(url, phase="connecting", timeout=self.connect_timeout)
        if isinstance(exc, aiohttp.SocketTimeoutError):
            return OutboundTimeoutError(
                url, phase="waiting for data from the server", timeout=self.read_timeout
            )
        if isinstance(exc, TimeoutError):
            return OutboundTimeoutError(url, phase="fetching", timeout=None)
        if isinstance(exc, aiohttp.ClientConnectorDNSError):
            return OutboundConnectionError(url, f"could not resolve host name {exc.host!r}")
        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            return OutboundConnectionError(
                url, f"the TLS certificate was rejected ({exc.certificate_error})"
            )
        if isinstance(exc, aiohttp.ClientSSLError):
            return OutboundConnectionError(url, f"the TLS handshake failed ({exc.os_error})")
        if isinstance(exc, aiohttp.ClientConnectorError):
            reason = exc.os_error.strerror or str(exc.os_error)
            return OutboundConnectionError(
                url, f"could not connect to {exc.host}:{exc.port} ({reason})"
            )
        if isinstance(exc, aiohttp.ServerDisconnectedError):
            return OutboundConnectionError(url, "the server closed the connection unexpectedly")
        if isinstance(exc, aiohttp.ClientPayloadError):
            return OutboundConnectionError(url, f"the response body was cut off ({exc})")
        if isinstance(exc, aiohttp.InvalidURL):
            return UnsafeURLError(f"{url} is not a valid URL ({exc})", url=url)
        if isinstance(exc, aiohttp.ClientResponseError):
            return OutboundConnectionError(url, f"the server sent an invalid response ({exc})")
        return OutboundConnectionError(url, str(exc) or type(exc).__name__)
