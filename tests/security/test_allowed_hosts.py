"""Item 2: a request with a Host outside allowed_hosts gets 400 on every route, before setup
and after, so a DNS-rebinding page cannot run setup or read the API under its own name."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.conftest import TEST_PASSWORD
from tests.security.conftest import Served

EVIL = {"Host": "attacker.example", "Origin": "http://attacker.example"}


def test_rebinding_cannot_take_over_setup(serve: Callable[..., Served]) -> None:
    served = serve()
    page = httpx.get(f"{served.url}/setup", headers=EVIL)
    assert page.status_code == 400
    assert "allowed_hosts" in page.json()["detail"]
    setup = httpx.post(
        f"{served.url}/api/auth/setup",
        json={"password": TEST_PASSWORD, "library_dir": str(served.library_dir)},
        headers=EVIL,
    )
    assert setup.status_code == 400
    assert "api_key" not in setup.text
    assert not (served.data_dir / "config.json").exists()
    for path in ("/health", "/api/series", "/static/app.js", "/login"):
        assert httpx.get(f"{served.url}{path}", headers=EVIL).status_code == 400, path

    # the names the server is bound to still work, with and without the port
    for host in (f"127.0.0.1:{served.port}", "127.0.0.1", f"localhost:{served.port}"):
        assert httpx.get(f"{served.url}/setup", headers={"Host": host}).status_code == 200
    ok = httpx.post(
        f"{served.url}/api/auth/setup",
        json={"password": TEST_PASSWORD, "library_dir": str(served.library_dir)},
    )
    assert ok.status_code == 201
    key = {"X-Api-Key": ok.json()["api_key"]}

    # after setup: the same
    assert httpx.get(f"{served.url}/api/series", headers={**EVIL, **key}).status_code == 400
    assert httpx.get(f"{served.url}/api/series", headers=key).status_code == 200
    for bad in ("attacker.example:80", "127.0.0.1.attacker.example", "", "a b", "[::2]"):
        resp = httpx.get(f"{served.url}/health", headers={"Host": bad})
        assert resp.status_code == 400, bad


def test_allowed_hosts_setting_and_wildcards(serve: Callable[..., Served]) -> None:
    served = serve(allowed_hosts="tv.example,*.home.arpa")
    for host, status in [
        ("tv.example", 200),
        ("tv.example:8000", 200),
        ("nas.home.arpa", 200),
        ("home.arpa.attacker.example", 400),
        ("other.example", 400),
        ("127.0.0.1", 200),  # loopback names always answer (health checks)
    ]:
        assert httpx.get(f"{served.url}/health", headers={"Host": host}).status_code == status, host
    # the Origin check compares with the allowed hosts, not with the request's Host alone
    same_but_unlisted = httpx.post(
        f"{served.url}/api/auth/login",
        json={"password": "x"},
        headers={"Host": "tv.example", "Origin": "http://other.example"},
    )
    assert same_but_unlisted.status_code == 403


def test_websocket_with_a_foreign_host_is_refused(serve: Callable[..., Served]) -> None:
    import asyncio

    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    served = serve()

    async def attempt() -> None:
        # the browser's view after rebinding: the attacker's name, our address
        url = f"ws://attacker.example:{served.port}/ws/connect"
        try:
            async with connect(
                url, host="127.0.0.1", port=served.port, origin=EVIL["Origin"], open_timeout=5
            ) as ws:
                await ws.recv()
        except InvalidStatus as exc:
            assert exc.response.status_code in (400, 403)
            return
        raise AssertionError("the WebSocket was accepted")

    asyncio.run(attempt())
