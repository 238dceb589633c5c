from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from showkeeper.config import Settings
from showkeeper.web.auth import utcnow
from tests.conftest import TEST_PASSWORD, complete_setup

ORIGIN = "http://testserver"


async def test_first_run_only_setup_answers(
    anon_api: httpx.AsyncClient, settings: Settings
) -> None:
    resp = await anon_api.get("/api/series")
    assert resp.status_code == 403
    assert resp.json()["detail"].startswith("setup required: ")
    page = await anon_api.get("/login")
    assert page.status_code == 303 and page.headers["location"] == "/setup"
    assert (await anon_api.get("/")).headers["location"] == "/setup"
    assert (await anon_api.get("/health")).status_code == 200
    assert (await anon_api.get("/static/app.js")).status_code == 200
    setup = await anon_api.get("/setup")
    assert setup.status_code == 200 and 'name="csrf-token"' in setup.text

    key = await complete_setup(anon_api, settings.library_dir)
    assert key.startswith("sk_")
    again = await anon_api.post(
        "/api/auth/setup", json={"password": "x" * 10, "library_dir": "/tmp"}
    )
    assert again.status_code == 401  # after setup it is not public any more
    again = await anon_api.post(
        "/api/auth/setup",
        json={"password": "x" * 10, "library_dir": "/tmp"},
        headers={"X-Api-Key": key},
    )
    assert again.status_code == 409
    assert (await anon_api.get("/setup")).headers["location"] == "/login"
    assert (await anon_api.get("/api/series", headers={"X-Api-Key": key})).status_code == 200
    stored = (settings.data_dir / "config.json").read_text()
    assert str(settings.library_dir) in stored


async def test_setup_rejects_a_weak_password_and_a_relative_library(
    anon_api: httpx.AsyncClient, settings: Settings
) -> None:
    resp = await anon_api.post(
        "/api/auth/setup", json={"password": "short", "library_dir": str(settings.library_dir)}
    )
    assert resp.status_code == 400 and "8 characters" in resp.json()["detail"]
    resp = await anon_api.post(
        "/api/auth/setup", json={"password": TEST_PASSWORD, "library_dir": "shows"}
    )
    assert resp.status_code == 400 and "absolute" in resp.json()["detail"]
    assert (await anon_api.get("/api/config")).status_code == 403  # still not set up


async def test_setup_creates_a_missing_library_folder(
    anon_api: httpx.AsyncClient, tmp_path: Path
) -> None:
    target = tmp_path / "new" / "shows"
    await complete_setup(anon_api, target)
    assert target.is_dir()


async def test_token_login_expiry_and_revocation(api: httpx.AsyncClient, app: object) -> None:
    anon = {"X-Api-Key": ""}
    bad = await api.post("/api/auth/login", json={"password": "wrong password"}, headers=anon)
    assert bad.status_code == 401 and bad.json()["detail"] == "wrong username or password"
    unknown = await api.post(
        "/api/auth/login", json={"username": "root", "password": "wrong"}, headers=anon
    )
    assert unknown.json()["detail"] == bad.json()["detail"]  # generic: no user enumeration

    resp = await api.post("/api/auth/login", json={"password": TEST_PASSWORD}, headers=anon)
    assert resp.status_code == 200
    body = resp.json()
    token = body["token"]
    assert "set-cookie" not in resp.headers
    bearer = {"Authorization": f"Bearer {token}", "X-Api-Key": ""}
    status = await api.get("/api/auth/status", headers=bearer)
    assert status.json()["method"] == "token"

    app.state.clock = lambda: utcnow() + timedelta(hours=721)  # token_ttl_hours = 720
    expired = await api.get("/api/auth/status", headers=bearer)
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    assert expired.headers["www-authenticate"] == "Bearer"
    app.state.clock = utcnow

    second = (
        await api.post("/api/auth/login", json={"password": TEST_PASSWORD}, headers=anon)
    ).json()["token"]
    revoked = await api.post("/api/auth/tokens/revoke", json={"token": token})
    assert revoked.json() == {"revoked": 1}
    assert (await api.get("/api/auth/status", headers=bearer)).status_code == 401
    other = {"Authorization": f"Bearer {second}", "X-Api-Key": ""}
    assert (await api.post("/api/auth/logout", headers=other)).status_code == 200
    assert (await api.get("/api/auth/status", headers=other)).status_code == 401


async def test_revoke_all_tokens(api: httpx.AsyncClient) -> None:
    anon = {"X-Api-Key": ""}
    tokens = [
        (await api.post("/api/auth/login", json={"password": TEST_PASSWORD}, headers=anon)).json()[
            "token"
        ]
        for _ in range(2)
    ]
    assert (await api.post("/api/auth/tokens/revoke", json={"all": True})).json() == {"revoked": 2}
    for token in tokens:
        resp = await api.get(
            "/api/auth/status", headers={"Authorization": f"Bearer {token}", "X-Api-Key": ""}
        )
        assert resp.status_code == 401
    assert (await api.post("/api/auth/tokens/revoke", json={})).status_code == 400


async def test_api_key_rotation(api: httpx.AsyncClient) -> None:
    old = api.api_key
    resp = await api.post("/api/auth/api-key/rotate")
    new = resp.json()["api_key"]
    assert new != old and new.startswith("sk_")
    assert (await api.get("/api/auth/status", headers={"X-Api-Key": old})).status_code == 401
    status = await api.get("/api/auth/status", headers={"X-Api-Key": new})
    assert status.json()["method"] == "api_key"
    # only in the header: a query parameter or bearer is not an API key
    assert (
        await api.get(f"/api/auth/status?api_key={new}", headers={"X-Api-Key": ""})
    ).status_code == 401
    bearer = {"Authorization": f"Bearer {new}", "X-Api-Key": ""}
    assert (await api.get("/api/auth/status", headers=bearer)).status_code == 401


async def test_login_is_throttled_per_client_with_retry_after(api: httpx.AsyncClient) -> None:
    anon = {"X-Api-Key": ""}
    for _ in range(5):  # login_max_failures = 5
        resp = await api.post("/api/auth/login", json={"password": "nope nope"}, headers=anon)
        assert resp.status_code == 401
    resp = await api.post("/api/auth/login", json={"password": TEST_PASSWORD}, headers=anon)
    assert resp.status_code == 429
    assert 1 <= int(resp.headers["retry-after"]) <= 300
    assert "try again" in resp.json()["detail"]


async def browser_login(client: httpx.AsyncClient) -> str:
    """Log in like static/app.js does: page token + cookie, Origin, mode=session."""
    page = await client.get("/login")
    token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
    assert page.cookies.get("showkeeper_csrf") == token
    resp = await client.post(
        "/api/auth/login",
        json={"password": TEST_PASSWORD, "mode": "session"},
        headers={"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin", "X-CSRF-Token": token},
    )
    assert resp.status_code == 200, resp.text
    cookie = resp.headers["set-cookie"]
    assert "showkeeper_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain http here; https gets Secure (cookie_secure=auto)
    assert resp.json()["token"] is None
    return str(resp.json()["csrf_token"])


async def test_browser_session_csrf_and_logout(
    anon_api: httpx.AsyncClient, settings: Settings
) -> None:
    await complete_setup(anon_api, settings.library_dir)
    # a browser login without the page's token is refused
    resp = await anon_api.post(
        "/api/auth/login",
        json={"password": TEST_PASSWORD, "mode": "session"},
        headers={"Origin": ORIGIN},
    )
    assert resp.status_code == 403
    csrf = await browser_login(anon_api)
    first_session = anon_api.cookies.get("showkeeper_session")
    dash = await anon_api.get("/")
    assert dash.status_code == 200 and csrf in dash.text
    assert (await anon_api.get("/api/series")).status_code == 200  # GET needs no token

    same = {"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"}
    body = {"values": {"notify_on_complete": True}}
    assert (await anon_api.put("/api/config", json=body, headers=same)).status_code == 403
    wrong = {**same, "X-CSRF-Token": "x" * 43}
    assert (await anon_api.put("/api/config", json=body, headers=wrong)).status_code == 403
    cross = {"Origin": "http://evil.example", "X-CSRF-Token": csrf}
    assert (await anon_api.put("/api/config", json=body, headers=cross)).status_code == 403
    site = {"Sec-Fetch-Site": "cross-site", "X-CSRF-Token": csrf}
    assert (await anon_api.put("/api/config", json=body, headers=site)).status_code == 403
    ok = await anon_api.put("/api/config", json=body, headers={**same, "X-CSRF-Token": csrf})
    assert ok.status_code == 200 and ok.json()["applied"] == ["notify_on_complete"]

    # a second login issues a new session id and revokes the old one
    await browser_login(anon_api)
    assert anon_api.cookies.get("showkeeper_session") != first_session
    async with httpx.AsyncClient(
        transport=anon_api._transport,
        base_url=ORIGIN,
        cookies={"showkeeper_session": first_session},
    ) as stale:
        assert (await stale.get("/api/auth/status")).status_code == 401

    status = (await anon_api.get("/api/auth/status")).json()
    out = await anon_api.post(
        "/api/auth/logout", headers={**same, "X-CSRF-Token": status["csrf_token"]}
    )
    assert out.status_code == 200 and 'showkeeper_session=""' in out.headers["set-cookie"]
    assert (await anon_api.get("/api/auth/status")).status_code == 401
    page = await anon_api.get("/")
    assert page.status_code == 303 and page.headers["location"] == "/login"


async def test_security_headers_and_csp(api: httpx.AsyncClient) -> None:
    for path in ("/health", "/api/series", "/login"):
        resp = await api.get(path)
        csp = resp.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "http" not in csp
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["x-frame-options"] == "DENY"
    page = await api.get("/api/docs")
    assert page.status_code == 200 and "<script>" not in page.text and "/api/series" in page.text


@pytest.mark.parametrize(
    ("path", "scripts"),
    # the app's pages: app.js, htmx and the live module; the API page: app.js, Swagger UI and
    # its starter; every one a file
    [("/", 3), ("/queue", 3), ("/api/docs", 3)],
)
async def test_pages_have_no_inline_script(api: httpx.AsyncClient, path: str, scripts: int) -> None:
    text = (await api.get(path)).text
    assert '<script src="/static/app.js" type="module"></script>' in text
    assert text.count("<script") == scripts == text.count('<script src="/static/')


async def test_swagger_assets_are_served_locally(anon_api: httpx.AsyncClient) -> None:
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        resp = await anon_api.get(f"/static/swagger/{asset}")
        assert resp.status_code == 200 and len(resp.content) > 10_000
