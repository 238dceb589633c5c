"""A person in Chromium: first run, login, a wrong password, logout, live scan events."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_PASSWORD
from tests.e2e.browser.conftest import Server, Session

pytestmark = pytest.mark.browser

OpenSession = Callable[[Server], Session]

# Runs in the page: a WebSocket on the session cookie, join scan_progress, start a rescan with
# the page's CSRF token, collect messages until the scan ends.
LIVE_SCAN_JS = """
async (wsUrl) => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const messages = [];
  const ws = new WebSocket(wsUrl);
  let wake = null;
  ws.onmessage = (e) => { messages.push(JSON.parse(e.data)); if (wake) wake(); };
  const until = (pred) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out: " + JSON.stringify(messages))), 8000);
    const check = () => {
      const hit = messages.find(pred);
      if (hit) { clearTimeout(timer); wake = null; resolve(hit); }
    };
    wake = check;
    check();
  });
  ws.onclose = (e) => messages.push({type: "closed", code: e.code, reason: e.reason});
  await until((m) => m.type === "welcome");
  ws.send(JSON.stringify({action: "join", room: "scan_progress"}));
  await until((m) => m.type === "joined");
  const resp = await fetch("/api/series/rescan", {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
    body: JSON.stringify({force: true}),
  });
  const started = await resp.json();
  const done = await until((m) => m.type === "scan_complete" || m.type === "scan_failed"
                                  || m.type === "closed");
  ws.close();
  return {status: resp.status, started, done, messages};
}
"""


OPEN_WS_JS = """
(url) => new Promise((resolve) => {
  const ws = new WebSocket(url);
  ws.onmessage = (e) => { resolve(JSON.parse(e.data).type); ws.close(); };
  ws.onclose = () => resolve("closed");
})
"""


def test_first_run_setup_lands_on_a_clean_library(
    server: Server, open_session: OpenSession, tmp_path: Path
) -> None:
    s = open_session(server)
    page = s.page
    s.goto("/")
    assert page.url == server.url + "/setup"
    library = tmp_path / "shows"  # setup creates it
    page.fill("input[name=password]", TEST_PASSWORD)
    page.fill("input[name=library_dir]", str(library))
    page.click("button[type=submit]")
    key = page.locator("#api-key")
    key.wait_for(state="visible")
    api_key = key.inner_text().strip()
    assert api_key.startswith("sk_")
    assert library.is_dir()
    # the key works, and is never shown again: setup is over
    status = httpx.get(f"{server.url}/api/auth/status", headers={"X-Api-Key": api_key})
    assert status.status_code == 200, status.text
    # continue straight into the app: the same password logs this browser in
    page.click("text=Continue to the library")
    page.wait_for_url(server.url + "/")
    assert page.locator("h1").inner_text() == "Library"
    # the stylesheet and the scripts loaded under the CSP: the layout is styled and the
    # live module connected its WebSocket
    sidebar_bg = page.eval_on_selector(".topbar", "el => getComputedStyle(el).backgroundColor")
    assert sidebar_bg not in ("", "rgba(0, 0, 0, 0)")
    page.wait_for_selector("#conn[data-state=open]")
    s.goto("/setup")
    assert page.url == server.url + "/login"
    assert page.locator("#api-key").count() == 0
    s.goto("/system")
    assert str(library) in page.locator("main").inner_text()

    cookie = s.cookie("showkeeper_session")
    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain http on 127.0.0.1
    pre_csrf = s.cookie("showkeeper_csrf")  # the login page's pre-session token
    assert pre_csrf is not None and pre_csrf["httpOnly"] is True
    assert pre_csrf["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # nothing readable by script
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert s.watch.clean(), s.watch
    # the WebSocket opens on the session cookie alone (same origin)
    ws_url = f"ws://127.0.0.1:{server.port}/ws/connect"
    assert page.evaluate(OPEN_WS_JS, ws_url) == "welcome"
    # the API page works under the same CSP
    page.click("text=API documentation")
    page.wait_for_url(server.url + "/api/docs")
    page.wait_for_selector(".opblock", timeout=15_000)  # Swagger UI rendered the spec
    assert page.locator(".opblock").count() > 10
    assert page.locator(".opblock-summary-path", has_text="/api/series/rescan").count() >= 1
    # use an endpoint from the page: a state-changing call rides the session + CSRF token
    block = page.locator(".opblock-post", has=page.locator("[data-path='/api/series/rescan']"))
    block.locator(".opblock-summary").first.click()
    block.locator("textarea.body-param__text").fill("{}")  # no series named: rescan all
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table tr.response .response-col_status").first
    status.wait_for(timeout=15_000)
    # accepted: the session and its CSRF token passed (they would give 401/403)
    assert status.inner_text().split()[0] in {"202", "409"}, status.inner_text()
    assert s.watch.clean(), s.watch

    # the watch sees a violation when there is one: inline script is refused
    page.evaluate(
        "() => { const el = document.createElement('script');"
        " el.textContent = 'window.__ran = 1'; document.body.appendChild(el); }"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.__ran") is None
    assert any("script-src" in v for v in s.watch.csp_violations), s.watch


def test_wrong_password_shows_a_generic_error(
    ready_server: Server, open_session: OpenSession
) -> None:
    s = open_session(ready_server)
    page = s.page
    s.goto("/login")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    error = page.locator("#login-form .error")
    error.wait_for(state="visible")
    text = error.inner_text()
    assert text == "wrong username or password"
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and "Error:" not in body
    assert page.url == ready_server.url + "/login"
    assert s.cookie("showkeeper_session") is None
    # the only console line is the browser's own note about the 401 response
    assert s.watch.console_errors, "the console listener heard nothing"
    assert all("401" in line for line in s.watch.console_errors), s.watch
    assert not s.watch.page_errors and not s.watch.csp_violations, s.watch
    # the same person can still log in
    s.login()
    assert page.locator("h1").inner_text() == "Library"


def test_logout_revokes_the_session(ready_server: Server, open_session: OpenSession) -> None:
    s = open_session(ready_server)
    s.login()
    old = s.cookie("showkeeper_session")
    assert old is not None
    s.page.click("[data-logout]")
    s.page.wait_for_url(ready_server.url + "/login")
    s.page.reload()
    s.goto("/")
    assert s.page.url == ready_server.url + "/login"
    # revoked on the server: the old cookie, put back, no longer opens the dashboard
    s.context.add_cookies([old])  # type: ignore[list-item]
    s.goto("/")
    assert s.page.url == ready_server.url + "/login"
    status = s.page.evaluate("() => fetch('/api/auth/status').then((r) => r.status)")
    assert status == 401
    # nor a WebSocket (the handshake is refused before it opens)
    ws = s.page.evaluate(OPEN_WS_JS, f"ws://127.0.0.1:{ready_server.port}/ws/connect")
    assert ws == "closed", ws
    assert not s.watch.page_errors and not s.watch.csp_violations, s.watch


def test_page_receives_live_scan_events(ready_server: Server, open_session: OpenSession) -> None:
    season = ready_server.library_dir / "Night Garden (2021)" / "Season 01"
    season.mkdir(parents=True)
    for n in (1, 2):
        (season / f"Night Garden - S01E0{n}.mkv").write_bytes(b"\x1a\x45\xdf\xa3" + bytes(64))
    (season.parent / "tvshow.nfo").write_text(
        "<tvshow><title>Night Garden</title><year>2021</year>"
        '<uniqueid type="showkeeper" default="true">night-garden</uniqueid></tvshow>'
    )
    s = open_session(ready_server)
    s.login()
    result: dict[str, Any] = s.page.evaluate(
        LIVE_SCAN_JS, f"ws://127.0.0.1:{ready_server.port}/ws/connect"
    )
    assert result["status"] == 202, result
    done = result["done"]
    assert done["type"] == "scan_complete", result
    assert done["data"]["scan_id"] == result["started"]["scan_id"]
    assert done["data"]["series_created"] == 1, done
    assert done["data"]["files_matched"] == 2, done
    types = [m["type"] for m in result["messages"]]
    assert types[:2] == ["welcome", "joined"]
    assert set(types[2:]) <= {"scan_progress", "scan_complete"}, types
    # what the scan found is what the API now says to the same page
    series = s.page.evaluate("() => fetch('/api/series').then((r) => r.json())")
    assert [(x["key"], x["downloaded_count"]) for x in series["items"]] == [("night-garden", 2)]
    assert s.watch.clean(), s.watch
