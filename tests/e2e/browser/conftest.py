"""Real-browser fixtures: the real server in a subprocess and Debian's Chromium via Playwright.

Playwright's own browser downloads are never used (no network): Chromium is /usr/bin/chromium
(./dev.sh test installs it when missing).
"""

from __future__ import annotations

import importlib.util
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
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    sync_playwright,
)

from tests.conftest import TEST_PASSWORD, free_port

CHROMIUM = "/usr/bin/chromium"
# axe-core, as bundled by the PyPI package axe-playwright-python (a test dependency)
AXE_JS = (
    Path(importlib.util.find_spec("axe_playwright_python").origin).parent / "axe.min.js"  # type: ignore[arg-type, union-attr]
).read_text(encoding="utf-8")
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
    proc: subprocess.Popen[bytes] | None = None

    def restart(self, down_s: float = 0.0) -> None:
        """Stop the server process and start it again on the same port and data."""
        assert self.proc is not None
        stop_server(self.proc)
        self.proc = None
        time.sleep(down_s)
        self.proc = spawn_server(self.data_dir, self.port, self.data_dir.parent / "server.log")

    def set_up(self) -> str:
        """Complete first-run setup through the API (as a script would); returns the API key."""
        resp = httpx.post(
            f"{self.url}/api/auth/setup",
            json={"password": TEST_PASSWORD, "library_dir": str(self.library_dir)},
            timeout=30,
        )
        assert resp.status_code == 201, resp.text
        self.api_key = str(resp.json()["api_key"])
        # setup starts a scan of the library folder: let it end before the test goes on
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            scan = httpx.get(
                f"{self.url}/api/library/scan", headers={"X-Api-Key": self.api_key}, timeout=10
            ).json()
            if scan["running"] is None and scan["last"] is not None:
                return self.api_key
            time.sleep(0.05)
        raise AssertionError(f"the scan after setup did not end: {scan}")


@dataclass
class Watch:
    """What a browser context reported: console errors, uncaught page errors, CSP violations."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def clean(self) -> bool:
        return not (self.console_errors or self.page_errors or self.csp_violations or self.dialogs)


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

    def axe(self) -> list[str]:
        """Serious and critical axe-core violations on the current page."""
        self.page.evaluate(AXE_JS)
        result = self.page.evaluate(
            "() => axe.run(document, {resultTypes: ['violations']}).then((r) => r.violations"
            ".filter((v) => v.impact === 'serious' || v.impact === 'critical')"
            ".map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')))"
        )
        return [str(v) for v in result]

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
        # the tests' own feeds and media are on 127.0.0.1; a failed download fails at once
        SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS="127.0.0.1/32",
        SHOWKEEPER_DOWNLOAD_MAX_ATTEMPTS="1",
    )
    return env


def spawn_server(data_dir: Path, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """`showkeeper serve` on 127.0.0.1:port, answering /health when this returns."""
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "showkeeper", "serve"],
            env=_server_env(data_dir, port),
            cwd=data_dir.parent / "srv",  # no developer .env is read
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, f"server exited early:\n{log_path.read_text()}"
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code < 500:
                return proc
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"server did not start:\n{log_path.read_text()}"
        time.sleep(0.1)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A fresh server (first run: no password, no library folder) on a free port."""
    data_dir, library_dir, cwd = tmp_path / "data", tmp_path / "library", tmp_path / "srv"
    for path in (data_dir, library_dir, cwd):
        path.mkdir(exist_ok=True)
    port = free_port()
    log_path = tmp_path / "server.log"
    server = Server(
        url=f"http://127.0.0.1:{port}", port=port, data_dir=data_dir, library_dir=library_dir
    )
    server.proc = spawn_server(data_dir, port, log_path)
    try:
        yield server
    finally:
        if server.proc is not None:
            stop_server(server.proc)
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

        def on_dialog(dialog: Dialog) -> None:  # alert(), confirm(): never ours, so a script ran
            watch.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        return Session(context=context, page=page, watch=watch, server=srv)

    yield _open
    for context in contexts:
        context.close()
