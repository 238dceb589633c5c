"""Security headers, a strict CSP, the client address behind trusted proxies, and the
same-origin checks of state-changing requests (the CSRF token check is in web/auth.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from showkeeper.config import IPNetwork

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


def cross_site_reason(scope: Scope, trusted: Sequence[IPNetwork]) -> str | None:
    """Why a request is not same-origin (None when it is, or says nothing about it)."""
    site = header(scope, b"sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return f"cross-site request refused (Sec-Fetch-Site: {site[:20]})"
    origin = header(scope, b"origin")
    if origin is not None and origin.rstrip("/").lower() != expected_origin(scope, trusted):
        return "cross-origin request refused (Origin does not match this server)"
    return None


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
