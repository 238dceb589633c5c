"""SSRF guard: which URLs and addresses showkeeper may connect to.

Feeds, directory listings and download links are user supplied, and redirects are chosen by
remote servers, so by default showkeeper refuses to talk to anything that is not a public
internet address (loopback, RFC 1918, link-local/cloud metadata, CGNAT, multicast, reserved,
IPv6 ULA, and IPv4 addresses embedded in IPv6). Users who do want to reach something on
their LAN add its network to ``allowed_private_networks``.

The checks here are pure except :func:`resolve_and_check`; the HTTP client applies them at
connect time (see :mod:`showkeeper.net.client`), so DNS rebinding cannot bypass them.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Sequence
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
)

from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver
from yarl import URL

from showkeeper.net.errors import BlockedAddressError, UnsafeURLError

__all__ = [
    "ALLOWED_SCHEMES",
    "IPAddress",
    "IPNetwork",
    "check_address",
    "check_url",
    "classify_address",
    "filter_addresses",
    "is_allowed",
    "parse_ip",
    "resolve_and_check",
]

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

ALLOWED_SCHEMES = frozenset({"http", "https"})

_CGNAT = IPv4Network("100.64.0.0/10")
_NAT64 = IPv6Network("64:ff9b::/96")
# Hosts that are not IP literals: DNS names after IDNA encoding (yarl gives us punycode).
_HOSTNAME_RE = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?$")
# Legacy numeric IPv4 spellings (127.1, 0x7f.0.0.1, 2130706433, 0177.0.0.1): some resolvers
# turn these into addresses, which makes them a classic way to sneak past naive filters.
_NUMERIC_HOST_RE = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+))*\.?$", re.I)


def parse_ip(host: str) -> IPAddress | None:
    """The address if ``host`` is an IP literal (brackets optional), else None."""
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return ip_address(host)
    except ValueError:
        return None


def _embedded_ipv4(ip: IPv6Address) -> tuple[IPv4Address, str] | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped, "IPv4-mapped IPv6"
    if ip.sixtofour is not None:
        return ip.sixtofour, "6to4"
    if ip.teredo is not None:
        return ip.teredo[1], "Teredo"
    if ip in _NAT64:
        return IPv4Address(int(ip) & 0xFFFFFFFF), "NAT64"
    return None


def classify_address(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public internet address (e.g. ``"loopback address"``), or None."""
    if isinstance(ip, IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            inner_reason = classify_address(embedded[0])
            if inner_reason is not None:
                return f"{inner_reason} in {embedded[1]} form"
            if ip.ipv4_mapped is not None:
                return None  # ::ffff:a.b.c.d reaches a.b.c.d, which is public
    if ip.is_unspecified:
        return "unspecified address"
    if ip.is_loopback:
        return "loopback address"
    if ip.is_link_local:
        return "link-local address"
    if ip.is_multicast:
        return "multicast address"
    if isinstance(ip, IPv4Address) and ip in _CGNAT:
        return "carrier-grade NAT address"
    if isinstance(ip, IPv6Address) and ip.is_site_local:
        return "site-local address"
    if ip.is_reserved:
        return "reserved address"
    if ip.is_private:
        return "private address"
    if not ip.is_global:
        return "non-public address"
    return None


def is_allowed(ip: IPAddress, allowed_networks: Sequence[IPNetwork]) -> bool:
    """Whether ``ip`` (or the IPv4 address it embeds) lies in one of ``allowed_networks``."""
    candidates: list[IPAddress] = [ip]
    if isinstance(ip, IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            candidates.append(embedded[0])
    return any(c in net for c in candidates for net in allowed_networks)


def check_address(
    ip: IPAddress,
    allowed_networks: Sequence[IPNetwork],
    *,
    url: str | None = None,
    host: str | None = None,
) -> None:
    """Raise :class:`BlockedAddressError` unless ``ip`` is public or explicitly allowed."""
    reason = classify_address(ip)
    if reason is None or is_allowed(ip, allowed_networks):
        return
    raise BlockedAddressError(str(ip), reason, url=url, host=host)


def _display(url: URL) -> str:
    # Never echo credentials back into messages or logs.
    if url.raw_user is not None or url.raw_password is not None:
        url = url.with_user(None)
    return str(url)


def check_url(url: str | URL) -> URL:
    """Validate an URL before fetching it; returns it parsed, without fragment.

    Only absolute ``http``/``https`` URLs with a plausible host and no ``user:pass@`` part
    are accepted. Addresses are checked separately (:func:`check_address`) because a host
    name's addresses are only known at connect time.
    """
    try:
        parsed = URL(url) if isinstance(url, str) else url
    except (ValueError, TypeError) as exc:
        raise UnsafeURLError(
            f"{url!r} is not a valid URL ({exc}); enter a full http:// or https:// address"
        ) from None
    scheme = parsed.scheme.lower()
    if not scheme:
        raise UnsafeURLError(
            f"{_display(parsed)!r} is not an absolute URL; it must start with http:// or https://",
            url=str(url),
        )
    if scheme not in ALLOWED_SCHEMES:
        raise UnsafeURLError(
            f"refusing {scheme}: URL {_display(parsed)!r}; only http:// and https:// URLs "
            "can be fetched",
            url=_display(parsed),
        )
    host = parsed.raw_host
    if not host:
        raise UnsafeURLError(
            f"URL {_display(parsed)!r} has no host name; enter a full address such as "
            "https://example.com/feed.xml",
            url=_display(parsed),
        )
    if parsed.raw_user is not None or parsed.raw_password is not None:
        raise UnsafeURLError(
            f"URL {_display(parsed)!r} contains a user name or password before the host "
            "(user:pass@host); remove it, credentials embedded in URLs are not supported",
            url=_display(parsed),
        )
    if parse_ip(host) is None:
        if _NUMERIC_HOST_RE.match(host):
            raise UnsafeURLError(
                f"URL {_display(parsed)!r} writes its address in a non-standard numeric form "
                f"({host}); use the dotted form such as 192.0.2.10 or a host name",
                url=_display(parsed),
            )
        if not _HOSTNAME_RE.match(host):
            raise UnsafeURLError(
                f"URL {_display(parsed)!r} has an invalid host name {host!r}; check for typos "
                "or stray characters",
                url=_display(parsed),
            )
    if parsed.explicit_port == 0:
        raise UnsafeURLError(
            f"URL {_display(parsed)!r} uses port 0; check the port number",
            url=_display(parsed),
        )
    if parsed.raw_fragment:
        parsed = parsed.with_fragment(None)
    return parsed


def filter_addresses(
    host: str,
    addresses: Sequence[IPAddress],
    allowed_networks: Sequence[IPNetwork],
    *,
    url: str | None = None,
) -> list[IPAddress]:
    """The acceptable ``addresses`` of ``host``, deduplicated, in order.

    Blocked addresses are dropped; if nothing acceptable remains, the first refusal is
    raised as :class:`BlockedAddressError`.
    """
    kept: list[IPAddress] = []
    first_error: BlockedAddressError | None = None
    for ip in addresses:
        if ip in kept:
            continue
        try:
            check_address(ip, allowed_networks, url=url, host=host)
        except BlockedAddressError as exc:
            first_error = first_error or exc
            continue
        kept.append(ip)
    if not kept and first_error is not None:
        raise first_error
    return kept


async def resolve_and_check(
    host: str,
    port: int,
    allowed_networks: Sequence[IPNetwork],
    *,
    resolver: AbstractResolver | None = None,
    family: socket.AddressFamily = socket.AF_UNSPEC,
    url: str | None = None,
) -> list[IPAddress]:
    """Resolve ``host`` and return only the addresses the guard accepts.

    Raises :class:`BlockedAddressError` when every address is refused, and ``OSError``
    (``socket.gaierror``) when the name does not resolve. ``resolver`` defaults to aiohttp's
    default resolver (getaddrinfo in a thread, or aiodns when installed).
    """
    literal = parse_ip(host)
    if literal is not None:
        check_address(literal, allowed_networks, url=url, host=host)
        return [literal]
    own = resolver is None
    active = DefaultResolver() if resolver is None else resolver
    try:
        results = await active.resolve(host, port, family=family)
    finally:
        if own:
            await active.close()
    addresses: list[IPAddress] = []
    for result in results:
        ip = parse_ip(result["host"])
        if ip is not None:
            addresses.append(ip)
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, f"{host} has no usable addresses")
    return filter_addresses(host, addresses, allowed_networks, url=url)
