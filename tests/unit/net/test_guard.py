"""SSRF guard: URL checks and address classification."""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from showkeeper.net.errors import BlockedAddressError, OutboundError, UnsafeURLError
from showkeeper.net.guard import (
    check_address,
    check_url,
    classify_address,
    filter_addresses,
    resolve_and_check,
)

BLOCKED = [
    ("127.0.0.1", "loopback"),
    ("127.255.1.2", "loopback"),
    ("::1", "loopback"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.10", "private"),
    ("169.254.169.254", "link-local"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.254", "carrier-grade NAT"),
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("fd12:3456::1", "private"),
    ("fec0::1", "site-local"),
    ("192.0.2.1", "private"),  # TEST-NET-1 documentation range
    ("::ffff:127.0.0.1", "loopback address in IPv4-mapped IPv6"),
    ("::ffff:10.0.0.1", "private address in IPv4-mapped IPv6"),
    ("::ffff:169.254.169.254", "link-local address in IPv4-mapped IPv6"),
    ("2002:7f00:1::1", "loopback address in 6to4"),
    ("64:ff9b::a00:1", "private address in NAT64"),
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize(("address", "reason"), BLOCKED)
def test_non_public_addresses_refused_by_default(address: str, reason: str) -> None:
    ip = ip_address(address)
    found = classify_address(ip)
    assert found is not None
    assert reason in found
    with pytest.raises(BlockedAddressError) as info:
        check_address(ip, [])
    assert isinstance(info.value, OutboundError)
    assert "allowed_private_networks" in str(info.value)
    assert "SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS" in str(info.value)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert classify_address(ip_address(address)) is None
    check_address(ip_address(address), [])


def test_message_names_address_reason_url_and_setting() -> None:
    with pytest.raises(BlockedAddressError) as info:
        check_address(ip_address("127.0.0.1"), [], url="http://localhost:8000/feed.xml")
    assert str(info.value) == (
        "refusing to connect to 127.0.0.1 (loopback address) for http://localhost:8000/feed.xml; "
        "add a network containing it to allowed_private_networks "
        "(env SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS) to allow it"
    )
    assert info.value.url == "http://localhost:8000/feed.xml"


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("127.0.0.1", "127.0.0.0/8"),
        ("192.168.1.10", "192.168.1.0/24"),
        ("10.9.8.7", "10.0.0.0/8"),
        ("fd12:3456::1", "fd00::/8"),
        ("::ffff:192.168.1.10", "192.168.1.0/24"),  # mapped form honours the IPv4 network
        ("100.100.1.1", "100.64.0.0/10"),
    ],
)
def test_allowed_network_lets_address_through(address: str, network: str) -> None:
    check_address(ip_address(address), [ip_network(network)])


def test_allowed_network_is_not_too_wide() -> None:
    with pytest.raises(BlockedAddressError):
        check_address(ip_address("192.168.2.1"), [ip_network("192.168.1.0/24")])
    with pytest.raises(BlockedAddressError):
        check_address(ip_address("::1"), [ip_network("127.0.0.0/8")])


private_v4 = (
    st.sampled_from(
        [
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "100.64.0.0/10",
        ]
    )
    .flatmap(
        lambda net: st.integers(
            int(ip_network(net).network_address), int(ip_network(net).broadcast_address)
        )
    )
    .map(IPv4Address)
)


@given(private_v4)
def test_private_ranges_and_their_mapped_forms_are_refused(ip: IPv4Address) -> None:
    mapped = IPv6Address(f"::ffff:{ip}")
    for candidate in (ip, mapped):
        with pytest.raises(BlockedAddressError):
            check_address(candidate, [])
        check_address(candidate, [ip_network(f"{ip}/32")])


@given(st.integers(0, 2**32 - 1).map(IPv4Address))
def test_mapped_ipv6_verdict_matches_ipv4(ip: IPv4Address) -> None:
    mapped = IPv6Address(f"::ffff:{ip}")
    assert (classify_address(ip) is None) == (classify_address(mapped) is None)


def test_filter_addresses_drops_blocked_and_keeps_order() -> None:
    ips = [ip_address("10.0.0.1"), ip_address("8.8.8.8"), ip_address("1.1.1.1")]
    assert filter_addresses("h", ips, []) == [ip_address("8.8.8.8"), ip_address("1.1.1.1")]
    with pytest.raises(BlockedAddressError, match=r"10\.0\.0\.1"):
        filter_addresses("h", ips[:1], [])


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/x",
        "javascript:alert(1)",
        "gopher://example.com/",
        "data:text/plain,hi",
    ],
)
def test_non_http_schemes_refused(url: str) -> None:
    with pytest.raises(UnsafeURLError, match=r"only http:// and https://"):
        check_url(url)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http:///nohost", "no host"),
        ("/relative/path", "not an absolute URL"),
        ("example.com/feed", "not an absolute URL"),
        ("http://user:secret@example.com/", "user name or password"),
        ("http://public.example@127.0.0.1/", "user name or password"),
        ("http://127.1/", "non-standard numeric"),
        ("http://0x7f000001/", "non-standard numeric"),
        ("http://2130706433/", "non-standard numeric"),
        ("http://exa mple.com/", "invalid host name"),
        ("http://example.com:0/", "port 0"),
    ],
)
def test_bad_urls_refused_with_actionable_message(url: str, fragment: str) -> None:
    with pytest.raises(UnsafeURLError, match=fragment):
        check_url(url)


def test_password_is_not_echoed() -> None:
    with pytest.raises(UnsafeURLError) as info:
        check_url("https://bob:hunter2@example.com/feed")
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/feed.xml",
        "https://EXAMPLE.com:8443/a?b=c",
        "https://bücher.example/",
        "http://[2606:4700::1111]/",
        "http://127.0.0.1:8080/",  # literal addresses are judged by check_address
    ],
)
def test_good_urls_accepted(url: str) -> None:
    parsed = check_url(url)
    assert parsed.scheme in {"http", "https"}


def test_fragment_dropped() -> None:
    assert str(check_url("https://example.com/x#frag")) == "https://example.com/x"


async def test_resolve_and_check_localhost() -> None:
    with pytest.raises(BlockedAddressError, match="loopback"):
        await resolve_and_check("localhost", 80, [])
    got = await resolve_and_check(
        "localhost", 80, [ip_network("127.0.0.0/8"), ip_network("::1/128")]
    )
    assert ip_address("127.0.0.1") in got or ip_address("::1") in got


async def test_resolve_and_check_literal_and_family() -> None:
    assert await resolve_and_check("8.8.8.8", 53, []) == [ip_address("8.8.8.8")]
    with pytest.raises(BlockedAddressError, match="for host localhost"):
        await resolve_and_check("localhost", 80, [], family=socket.AF_INET)
