"""Every route of the app, including those added by other modules later, refuses a request
without credentials, except the public few; the API key never leaks to such a request."""

import re
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from showkeeper.config import Settings
from tests.conftest import complete_setup

# (method, path) answered without credentials after setup
PUBLIC = {
    ("GET", "/health"),
    ("GET", "/health/ready"),
    ("GET", "/login"),
    ("POST", "/api/auth/login"),
    ("GET", "/setup"),  # redirects to /login once setup is done
}


def all_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every HTTP route, and ("WS", path) of every WebSocket route."""
    out = []
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        if isinstance(route, Mount):
            continue  # static files: public by design, checked below
        methods = ctx.methods
        if methods is None:
            out.append(("WS", ctx.path))
        else:
            out.extend((m, ctx.path) for m in sorted(methods) if m != "HEAD")
    return out


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "probe", path)


async def ws_refused(app: Any, path: str) -> bool:
    """Drive the ASGI app with a WebSocket handshake; True when it closes without accepting."""
    sent: list[dict] = []
    messages = [{"type": "websocket.connect"}]

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "scheme": "ws",
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
        "subprotocols": [],
        "asgi": {"version": "3.0"},
    }
    await app(scope, receive, send)
    return bool(sent) and sent[0]["type"] == "websocket.close"


async def test_every_route_needs_credentials(
    app: Any, anon_api: httpx.AsyncClient, settings: Settings
) -> None:
    key = await complete_setup(anon_api, settings.library_dir)
    routes = all_routes(app)
    assert ("GET", "/api/series/{key}") in routes and ("WS", "/ws/connect") in routes
    checked = 0
    for method, path in routes:
        if method == "WS":
            assert await ws_refused(app, path), path
            continue
        resp = await anon_api.request(method, concrete(path), json={})
        body = resp.text
        assert key not in body and key not in str(resp.headers), (method, path)
        if (method, path) in PUBLIC:
            continue
        redirect_to_login = (
            resp.status_code in (302, 303, 307) and resp.headers["location"] == "/login"
        )
        assert resp.status_code in (401, 403) or redirect_to_login, (method, path, resp.status_code)
        checked += 1
    assert checked >= 20
    static = await anon_api.get("/static/app.js")
    assert static.status_code == 200 and key not in static.text


async def test_wrong_credentials_are_refused_everywhere(
    app: Any, anon_api: httpx.AsyncClient, settings: Settings
) -> None:
    await complete_setup(anon_api, settings.library_dir)
    for headers in (
        {"X-Api-Key": "sk_wrong"},
        {"Authorization": "Bearer skt_wrong"},
        {"Cookie": "showkeeper_session=wrong"},
    ):
        for method, path in all_routes(app):
            if method == "WS" or (method, path) in PUBLIC:
                continue
            resp = await anon_api.request(method, concrete(path), headers=headers, json={})
            assert resp.status_code in (303, 401, 403), (headers, method, path)


@pytest.mark.parametrize("path", ["/metrics", "/health/detailed", "/api/docs", "/openapi.json"])
async def test_sensitive_reads_need_credentials(
    anon_api: httpx.AsyncClient, settings: Settings, path: str
) -> None:
    await complete_setup(anon_api, settings.library_dir)
    resp = await anon_api.get(path)
    assert resp.status_code in (303, 401)
