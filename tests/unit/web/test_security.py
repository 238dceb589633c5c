import ipaddress

import pytest

from showkeeper.web.security import client_ip, cross_site_reason, expected_origin


def scope(peer: str = "10.0.0.5", **headers: str) -> dict:
    return {
        "type": "http",
        "scheme": "http",
        "client": (peer, 5555),
        "headers": [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()],
    }


PROXY = [ipaddress.ip_network("10.0.0.0/24")]


def test_forwarded_for_is_ignored_from_an_untrusted_peer() -> None:
    assert client_ip(scope("203.0.113.9", x_forwarded_for="1.2.3.4"), PROXY) == "203.0.113.9"
    assert client_ip(scope("10.0.0.5", x_forwarded_for="1.2.3.4"), []) == "10.0.0.5"


def test_forwarded_for_from_a_trusted_proxy_takes_the_first_untrusted_hop_from_the_right() -> None:
    # the client tried to claim 6.6.6.6; the proxy appended the real address
    s = scope("10.0.0.5", x_forwarded_for="6.6.6.6, 198.51.100.7, 10.0.0.9")
    assert client_ip(s, PROXY) == "198.51.100.7"
    assert client_ip(scope("10.0.0.5"), PROXY) == "10.0.0.5"


def test_expected_origin_uses_proxy_headers_only_when_trusted() -> None:
    s = scope(
        "10.0.0.5", host="internal:8000", x_forwarded_proto="https", x_forwarded_host="tv.example"
    )
    assert expected_origin(s, PROXY) == "https://tv.example"
    assert expected_origin(s, []) == "http://internal:8000"
    assert expected_origin(scope(host="a:80"), []) == "http://a"


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        ({"host": "sk:8000"}, False),  # no browser signals: an API client
        ({"host": "sk:8000", "origin": "http://sk:8000"}, False),
        ({"host": "sk:8000", "origin": "http://evil.example"}, True),
        ({"host": "sk:8000", "origin": "null"}, True),
        ({"host": "sk:8000", "sec_fetch_site": "same-origin"}, False),
        ({"host": "sk:8000", "sec_fetch_site": "cross-site"}, True),
        ({"host": "sk:8000", "sec_fetch_site": "same-site"}, True),
    ],
)
def test_cross_site_requests_are_refused(headers: dict[str, str], refused: bool) -> None:
    assert (cross_site_reason(scope(**headers), [], ["sk"]) is not None) is refused
