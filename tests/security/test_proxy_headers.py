"""Item 3: forwarding headers are believed only from trusted_proxies, never by uvicorn."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.conftest import TEST_PASSWORD
from tests.security.conftest import Served


def _setup(served: Served) -> None:
    resp = httpx.post(
        f"{served.url}/api/auth/setup",
        json={"password": TEST_PASSWORD, "library_dir": str(served.library_dir)},
    )
    assert resp.status_code == 201, resp.text


def _session_login(served: Served, headers: dict[str, str]) -> httpx.Response:
    resp = httpx.post(
        f"{served.url}/api/auth/login",
        json={"password": TEST_PASSWORD, "mode": "session"},
        headers=headers,
    )
    assert resp.status_code == 200, resp.text
    return resp


def test_forwarded_headers_from_localhost_change_nothing_without_trusted_proxies(
    serve: Callable[..., Served],
) -> None:
    served = serve(login_max_failures="2")
    _setup(served)
    wrong = {"password": "not the password"}
    for _ in range(2):
        assert httpx.post(f"{served.url}/api/auth/login", json=wrong).status_code == 401
    assert httpx.post(f"{served.url}/api/auth/login", json=wrong).status_code == 429
    for fake in ("203.0.113.1", "203.0.113.2", "198.51.100.9"):  # a fresh address each time
        resp = httpx.post(
            f"{served.url}/api/auth/login", json=wrong, headers={"X-Forwarded-For": fake}
        )
        assert resp.status_code == 429, resp.text

    plain = serve()
    _setup(plain)
    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"}
    cookie = _session_login(plain, forged).headers["set-cookie"]
    assert "showkeeper_session=" in cookie
    assert "secure" not in cookie.lower()


def test_a_trusted_proxy_is_believed(serve: Callable[..., Served]) -> None:
    served = serve(trusted_proxies="127.0.0.1/32", login_max_failures="2")
    _setup(served)
    wrong = {"password": "not the password"}
    for _ in range(3):
        httpx.post(
            f"{served.url}/api/auth/login", json=wrong, headers={"X-Forwarded-For": "203.0.113.1"}
        )
    other = httpx.post(
        f"{served.url}/api/auth/login", json=wrong, headers={"X-Forwarded-For": "203.0.113.2"}
    )
    assert other.status_code == 401  # another client behind the proxy has its own budget
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.3"}
    cookie = _session_login(served, headers).headers["set-cookie"]
    assert "secure" in cookie.lower()
