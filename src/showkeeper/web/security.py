"""Security headers, a strict CSP, the client address behind trusted proxies, and the
same-origin checks of state-changing requests (the CSRF token check is in web/auth.py).
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from collections.abc import Sequence
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from showkeeper.config import IPNetwork, Settings, normal_host

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header (name in lower case)."""
    for key, value in scope.get("headers") or []:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def cookies(scope: Scope) -> dict[str, str]:
    raw = header(scope, b"cookie")
    if not raw:
        return {}
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header is treated as no cookies
        return {}
    return {key: morsel.value for key, morsel in jar.items()}


def _trusted(peer: str | None, trusted: Sequence[IPNetwork]) -> bool:
    if not peer or not trusted:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in net for net in trusted)


def client_ip(scope: Scope, trusted: Sequence[IPNetwork]) -> str:
    """The client's address; X-Forwarded-For is believed only from a trusted proxy.

    Walks X-Forwarded-For from the right past trusted proxies, so a client cannot
    choose its address by sending its own header through the proxy.
    """
    client = scope.get("client")
    peer = client[0] if client else None
    if not _trusted(peer, trusted):
        return peer or "unknown"
    forwarded = [p.strip() for p in (header(scope, b"x-forwarded-for") or "").split(",")]
    for hop in reversed([p for p in forwarded if p]):
        if not _trusted(hop, trusted):
            return hop
    return peer or "unknown"


# --- the Host a request was addressed to --------------------------------------------------

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
_WILDCARD_BINDS = ("0.0.0.0", "::", "")  # noqa: S104 - recognising it, not binding


def split_host(value: str) -> str | None:
    """The host of a Host header or an origin's netloc (no port, IPv6 unbracketed), or None
    when it is not a host."""
    text = value.strip()
    if not text or any(c in text for c in "/@?#\\ "):
        return None
    try:
        host = urlsplit(f"//{text}").hostname
    except ValueError:
        return None
    return normal_host(host) if host else None


@functools.lru_cache(maxsize=8)
def default_allowed_hosts(bound: str) -> tuple[str, ...]:
    """The names and addresses a server bound to `bound` answers to by default."""
    hosts = {*LOOPBACK_HOSTS}
    bound_host = normal_host(bound)
    if bound_host not in _WILDCARD_BINDS and bound_host is not None:
        hosts.add(bound_host)
    else:  # every interface: the machine's own name and its addresses
        for name in {socket.gethostname(), socket.getfqdn()}:
            if (host := normal_host(name)) is not None:
                hosts.add(host)
            try:
                infos = socket.getaddrinfo(name, None)
            except OSError:
                continue
            for info in infos:
                if (addr := normal_host(str(info[4][0]).split("%")[0])) is not None:
                    hosts.add(addr)
    return tuple(sorted(hosts))


def allowed_hosts(settings: Settings) -> tuple[str, ...]:
    """allowed_hosts, or the default; the loopback names always (a rebinding page cannot make
    a browser send them, and local health checks use them)."""
    if settings.allowed_hosts:
        return (*LOOPBACK_HOSTS, *settings.allowed_hosts)
    return default_allowed_hosts(settings.host)


def host_allowed(host: str | None, allowed: Sequence[str]) -> bool:
    if host is None:
        return False
    for pattern in allowed:
        if pattern == "*" or pattern == host:
            return True
        if pattern.startswith("*.") and host.endswith(pattern[1:]):
            return True
    return False


def request_hosts(scope: Scope, trusted: Sequence[IPNetwork]) -> list[str | None]:
    """Every host name the request claims: Host, and X-Forwarded-Host from a trusted proxy."""
    hosts = [split_host(header(scope, b"host") or "")]
    client = scope.get("client")
    if _trusted(client[0] if client else None, trusted):
        forwarded = header(scope, b"x-forwarded-host")
        if forwarded:
            hosts.append(split_host(forwarded.split(",")[0]))
    return hosts


def expected_origin(scope: Scope, trusted: Sequence[IPNetwork]) -> str:
    """scheme://host[:port] this request was addressed to (proxy headers only if trusted)."""
    client = scope.get("client")
    via_proxy = _trusted(client[0] if client else None, trusted)
    scheme = str(scope.get("scheme", "http"))
    host = header(scope, b"host") or ""
    if via_proxy:
        scheme = (header(scope, b"x-forwarded-proto") or scheme).split(",")[0].strip()
        host = (header(scope, b"x-forwarded-host") or host).split(",")[0].strip()
    scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
    if scheme == "http" and host.endswith(":80"):
        host = host[:-3]
    if scheme == "https" and host.endswith(":443"):
        host = host[:-4]
    return f"{scheme}://{host}".lower()


def is_https(scope: Scope, trusted: Sequence[IPNetwork]) -> bool:
    return expected_origin(scope, trusted).startswith("https://")


def is_browser_request(scope: Scope) -> bool:
    """Browsers send Origin or Sec-Fetch-Site on every state-changing request."""
    return header(scope, b"origin") is not None or header(scope, b"sec-fetch-site") is not None


def cross_site_reason(
    scope: Scope, trusted: Sequence[IPNetwork], allowed: Sequence[str]
) -> str | None:
    """Why a request is not same-origin (None when it is, or says nothing about it)."""
    site = header(scope, b"sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return f"cross-site request refused (Sec-Fetch-Site: {site[:20]})"
    origin = header(scope, b"origin")
    if origin is not None and not origin_ok(scope, origin, trusted, allowed):
        return "cross-origin request refused (Origin does not match this server)"
    return None


def origin_ok(
    scope: Scope, origin: str, trusted: Sequence[IPNetwork], allowed: Sequence[str]
) -> bool:
    """The Origin is this server: an allowed host, and the scheme/host/port it was asked at."""
    text = origin.rstrip("/").lower()
    if not host_allowed(split_host(text.partition("://")[2]), allowed):
        return False
    return text == expected_origin(scope, trusted)


class HostGuardMiddleware:
    """400 for a request whose Host is not one of allowed_hosts, on every route, before
    setup and after: a DNS-rebinding page cannot talk to this server under its own name."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        ctx = getattr(scope["app"].state, "ctx", None)
        if ctx is not None:
            settings: Settings = ctx.settings
            allowed = allowed_hosts(settings)
            claimed = request_hosts(scope, settings.trusted_proxies)
            if not all(host_allowed(host, allowed) for host in claimed):
                detail = (
                    "unknown Host: this server answers only to the names in allowed_hosts "
                    "(SHOWKEEPER_ALLOWED_HOSTS)"
                )
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008, "reason": detail[:120]})
                else:
                    await JSONResponse({"detail": detail}, status_code=400)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class SecurityHeadersMiddleware:
    """Adds the CSP and friends to every response; API and pages are never cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {key.lower() for key, _ in headers}
                headers.extend(h for h in _HEADERS if h[0] not in present)
                if not static and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --- input the app must never see -----------------------------------------------------

_JSON_ESCAPE = re.compile(rb"(\\+)u([0-9a-fA-F]{4})")
MAX_JSON_BODY = 16 * 1024 * 1024
NUL_REFUSED = "NUL characters are not accepted in paths, query strings or JSON text"
SURROGATE_REFUSED = "unpaired UTF-16 surrogate (\\ud800-\\udfff) in JSON text; send valid Unicode"


def bad_json_text(body: bytes) -> str | None:
    """Why a JSON body holds text no database can store (NUL, an unpaired surrogate escape),
    or None. Escapes preceded by an escaped backslash are plain text and pass."""
    if b"\x00" in body:
        return NUL_REFUSED
    high_ends_at: int | None = None  # where a high surrogate escape ended, awaiting its pair
    for match in _JSON_ESCAPE.finditer(body):
        if len(match.group(1)) % 2 == 0:
            continue
        code = int(match.group(2), 16)
        starts_at = match.end(1) - 1
        if high_ends_at is not None:
            if starts_at == high_ends_at and 0xDC00 <= code <= 0xDFFF:
                high_ends_at = None
                continue
            return SURROGATE_REFUSED
        if code == 0:
            return NUL_REFUSED
        if 0xD800 <= code <= 0xDBFF:
            high_ends_at = match.end()
        elif 0xDC00 <= code <= 0xDFFF:
            return SURROGATE_REFUSED
    return SURROGATE_REFUSED if high_ends_at is not None else None


def _has_nul(raw: bytes) -> bool:
    lowered = raw.lower()
    return b"\x00" in lowered or b"%00" in lowered


class InputGuardMiddleware:
    """400 at the edge for what would otherwise fail deep inside: NUL in the path or query
    string, and NUL or unpaired surrogates in a JSON body (PostgreSQL cannot store either,
    and a surrogate cannot even be encoded in an error message)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or str(scope.get("path", "")).encode("utf-8", "replace")
        if _has_nul(raw_path) or _has_nul(scope.get("query_string") or b""):
            await _refuse(scope, receive, send, 400, NUL_REFUSED)
            return
        content_type = header(scope, b"content-type") or ""
        if scope["type"] != "http" or "json" not in content_type.lower():
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_JSON_BODY:
                await _refuse(scope, receive, send, 413, "JSON body larger than 16 MiB")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if (reason := bad_json_text(body)) is not None:
            await _refuse(scope, receive, send, 400, reason)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": detail[:120]})
        return
    await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)
