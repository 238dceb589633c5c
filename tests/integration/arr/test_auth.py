"""Who may call the Sonarr v3 routes and the iCal feed, and that a query-string key never
reaches a log line or an error message."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import httpx
import pytest

from showkeeper.config import Settings
from showkeeper.logging import get_logger, setup_logging
from tests.conftest import complete_setup
from tests.integration.arr.conftest import ArrServer
from tests.integration.web.test_auth_matrix import all_routes, concrete

FEED = "/feed/v3/calendar/showkeeper.ics"


def arr_routes(app: Any) -> list[tuple[str, str]]:
    return [(m, p) for m, p in all_routes(app) if p.startswith("/api/v3/") or p == FEED]


async def test_auth_matrix(app: Any, anon_api: httpx.AsyncClient, settings: Settings) -> None:
    key = await complete_setup(anon_api, settings.library_dir)
    routes = arr_routes(app)
    assert len(routes) >= 35 and ("GET", FEED) in routes
    for method, path in routes:
        url = concrete(path)
        cases: list[tuple[str, dict[str, str], dict[str, str], bool]] = [
            ("no key", {}, {}, False),
            ("wrong header key", {"X-Api-Key": "sk_wrong"}, {}, False),
            ("wrong query key", {}, {"apikey": "sk_wrong"}, False),
            ("header key", {"X-Api-Key": key}, {}, True),
            ("query key", {}, {"apikey": key}, True),
        ]
        for name, headers, params, allowed in cases:
            resp = await anon_api.request(method, url, headers=headers, params=params, json={})
            if allowed:
                assert resp.status_code not in (401, 403), (name, method, path, resp.text)
            else:
                assert resp.status_code == 401, (name, method, path, resp.status_code)
            assert key not in resp.text and key not in str(resp.headers), (name, method, path)


@pytest.mark.parametrize(
    "path",
    [
        "/api/series",
        "/api/queue/status",
        "/api/sources/opml",
        "/health/detailed",
        "/metrics",
        "/openapi.json",
        "/api/v2/series",
        "/feed/v3/calendar/sonarr.ics",
        "/api/v3",
    ],
)
async def test_query_key_is_refused_elsewhere(
    anon_api: httpx.AsyncClient, settings: Settings, path: str
) -> None:
    key = await complete_setup(anon_api, settings.library_dir)
    resp = await anon_api.get(path, params={"apikey": key})
    assert resp.status_code in (401, 303), (path, resp.status_code)
    assert key not in resp.text
    header = await anon_api.get(path, headers={"X-Api-Key": key})
    assert header.status_code not in (401, 403)


async def test_query_key_is_refused_on_the_websocket(
    app: Any, anon_api: httpx.AsyncClient, settings: Settings
) -> None:
    from tests.integration.web.test_auth_matrix import ws_refused

    key = await complete_setup(anon_api, settings.library_dir)
    assert await ws_refused(app, f"/ws/connect?apikey={key}")


def test_query_key_never_reaches_logs_or_errors(
    arr_server: ArrServer, capsys: pytest.CaptureFixture[str]
) -> None:
    logs_dir = arr_server.settings.logs_dir
    root = logging.getLogger()
    before = list(root.handlers)
    setup_logging("INFO", logs_dir=logs_dir)
    key = arr_server.api_key
    wrong = "sk_" + "w" * 40
    bodies: list[str] = []
    try:
        with httpx.Client(base_url=arr_server.url, timeout=30) as client:
            for path, params, status in [
                ("/api/v3/system/status", {"apikey": key}, 200),
                (FEED, {"apikey": key, "pastDays": "3"}, 200),
                ("/api/v3/series/12345", {"apikey": key}, 404),
                ("/api/v3/series/not-a-number", {"apikey": key}, 400),
                ("/api/v3/wanted/missing", {"apikey": key, "page": "x"}, 400),
                ("/api/v3/command/999", {"apikey": key}, 404),
                ("/api/v3/nothing-here", {"apikey": key}, 404),
                ("/api/v3/series", {"apikey": wrong}, 401),
                ("/api/series", {"apikey": key}, 401),
            ]:
                resp = client.get(path, params=params)
                assert resp.status_code == status, (path, resp.status_code, resp.text)
                bodies.append(resp.text + str(resp.headers))
            bad = client.post(f"/api/v3/command?apikey={key}", json={"name": f"apikey={key}"})
            assert bad.status_code == 400 and "SeriesSearch" in bad.text
            bodies.append(bad.text)
        # our own lines that happen to carry a URL with the key
        get_logger("test.arr").warning("fetched", url=f"http://x/api/v3/series?apikey={key}")
        logging.getLogger("test.arr").info("stdlib %s", f"/feed?apikey={key}&x=1")
    finally:
        for handler in root.handlers:
            handler.flush()
        for handler in list(root.handlers):
            if handler not in before:
                root.removeHandler(handler)
                handler.close()
    for body in bodies:
        assert key not in body and wrong not in body
    text = (logs_dir / "showkeeper.log").read_text()
    console = capsys.readouterr()
    for output in (text, console.out, console.err):
        assert key not in output and wrong not in output
    lines = [json.loads(line) for line in text.splitlines()]
    access = [line["event"] for line in lines if line.get("logger") == "uvicorn.access"]
    assert any("/api/v3/system/status?apikey=[redacted]" in a for a in access), access
    assert any(re.search(r"showkeeper\.ics\?apikey=\[redacted\]&pastDays=3", a) for a in access)
    mine = [line for line in lines if line.get("logger") == "test.arr"]
    assert mine[0]["url"] == "http://x/api/v3/series?apikey=[redacted]"
    assert mine[1]["event"] == "stdlib /feed?apikey=[redacted]&x=1"
