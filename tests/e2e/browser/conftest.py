"""Real-browser fixtures: the real server in a subprocess and Debian's Chromium via Playwright.

Playwright's own browser downloads are never used (no network): Chromium is /usr/bin/chromium
(./dev.sh test installs it when missing).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from tests.conftest import TEST_PASSWORD, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# a CSP violation reaches the test through an exposed binding, whatever page it happens on
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__reportCsp(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


@dataclass
class Server:
    """A `showkeeper serve` subprocess on 127.0.0.1."""

    url: str
    port: int
    data_dir: Path
    library_dir: Path
    api_key: str | None = None

    def set_up(self) -> str:
        """Complete first-run setup through the API (as a script would); returns the API key."""
        resp = httpx.post(
            f"{self.url}/api/auth/setup",
            json={"password": TEST_PASSWORD, "library_dir": str(self.library_dir)},
            timeout=30,
        )
        assert resp.status_code == 201, resp.text
        self.api_key = str(resp.json()["api_key"])
        return self.api_key


@dataclass
class Watch:
    """What a browser context reported: console errors, uncaught page errors, CSP violations."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def clean(self) -> bool:
        return not (self.console_errors or self.page_errors or self.csp_violations)


@dataclass
class Session:
    """One browser context (its own cookies) with one page, watched."""

    context: BrowserContext
    page: Page
    watch: Watch
    server: Server

    def goto(self, path: str) -> None:
        self.page.goto(self.server.url + path)

    def login(self, password: str = TEST_PASSWORD) -> None:
        """Log in through /login like a person and wait for the dashboard."""
        self.goto("/login")
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(self.server.url + "/")

    def cookie(self, name: str) -> dict[str, object] | None:
        return next((dict(c) for c in self.context.cookies() if c["name"] == name), None)


def _server_env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWKEEPER_")}
    env.update(
        SHOWKEEPER_DATA_DIR=str(data_dir),
        SHOWKEEPER_PORT=str(port),
        SHOWKEEPER_HOST="127.0.0.1",
        SHOWKEEPER_SCHEDULER_ENABLED="false",
        SHOWKEEPER_LOG_LEVEL="WARNING",
    )
    return env


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A fresh server (first run: no password, no library folder) on a free port."""
    data_dir, library_dir, cwd = tmp_path / "data", tmp_path / "library", tmp_path / "srv"
    for path in (data_dir, library_dir, cwd):
        path.mkdir(exist_ok=True)
    port = free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "showkeeper", "serve"],
            env=_server_env(data_dir, port),
            cwd=cwd,  # no developer .env is read
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, f"server exited early:\n{log_path.read_text()}"
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"server did not start:\n{log_path.read_text()}"
            time.sleep(0.1)
        yield Server(url=url, port=port, data_dir=data_dir, library_dir=library_dir)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    output = log_path.read_text()
    assert "Traceback" not in output, output


@pytest.fixture
def ready_server(server: Server) -> Server:
    """A server whose setup is complete (TEST_PASSWORD, its library_dir); API key in .api_key."""
    server.set_up()
    return server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install the Debian package chromium (./dev.sh test)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_session(browser: Browser) -> Iterator[Callable[[Server], Session]]:
    """Opens a watched browser context on a server; closed after the test."""
    contexts: list[BrowserContext] = []

    def _open(srv: Server) -> Session:
        context = browser.new_context(viewport={"width": 1100, "height": 700})
        contexts.append(context)
        context.set_default_timeout(10_000)
        watch = Watch()
        context.expose_binding(
            "__reportCsp", lambda _source, text: watch.csp_violations.append(str(text))
        )
        context.add_init_script(_CSP_LISTENER)
        page = context.new_page()

        def on_console(msg: ConsoleMessage) -> None:
            if msg.type == "error":
                watch.console_errors.append(msg.text)

        page.on("console", on_console)
        page.on("pageerror", lambda exc: watch.page_errors.append(str(exc)))
        return Session(context=context, page=page, watch=watch, server=srv)

    yield _open
    for context in contexts:
        context.close()
