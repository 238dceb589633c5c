"""Screenshots of every page with the demo's data: docs/screenshots/<page>-<width>-<theme>.png.

Runs `showkeeper demo` on a free port with a fresh database (the sample clips are cached in
.cache/screenshots-demo/demo-media), logs in with Chromium (/usr/bin/chromium, Playwright) and
saves each page at 1366 and 375 px wide, dark and light. `./dev.sh screenshots` runs it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
DATA = ROOT / ".cache" / "screenshots-demo"
CHROMIUM = "/usr/bin/chromium"
WIDTHS = {"1366": (1366, 860), "375": (375, 760)}
THEMES = ("dark", "light")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_demo(port: int) -> tuple[subprocess.Popen[str], str]:
    if DATA.exists():  # a fresh database each time; the made clips are kept
        for child in DATA.iterdir():
            if child.name != "demo-media":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWKEEPER_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "showkeeper", "demo", "--port", str(port), "--data-dir", str(DATA)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 600
    password = None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit(f"the demo stopped (exit {proc.poll()})")
        print("demo:", line.rstrip())
        if match := re.search(r"password: (\S+)\)", line):
            password = match.group(1)
        if "queued" in line and password:
            return proc, password
    raise SystemExit("the demo did not come up in time")


def shoot(page: Page, name: str, width: str, theme: str, *, full: bool = False) -> None:
    page.wait_for_timeout(400)
    path = OUT / f"{name}-{width}-{theme}.png"
    page.screenshot(path=str(path), full_page=full)
    print("wrote", path.relative_to(ROOT))


def shoot_setup(browser: Browser) -> None:
    """The first-run page, from a fresh `showkeeper serve` (the demo does setup itself)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="sk-shots-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWKEEPER_")}
        env.update(
            SHOWKEEPER_DATA_DIR=tmp,
            SHOWKEEPER_PORT=str(port),
            SHOWKEEPER_HOST="127.0.0.1",
            SHOWKEEPER_SCHEDULER_ENABLED="false",
            SHOWKEEPER_LOG_LEVEL="WARNING",
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "showkeeper", "serve"], env=env, cwd=tmp,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code < 500:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            for theme in THEMES:
                for width, (w, h) in WIDTHS.items():
                    context = browser.new_context(
                        viewport={"width": w, "height": h}, color_scheme=theme
                    )
                    page = context.new_page()
                    page.goto(f"http://127.0.0.1:{port}/setup")
                    shoot(page, "setup", width, theme)
                    context.close()
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=20)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc, password = start_demo(port)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            shoot_setup(browser)
            for theme in THEMES:
                for width, (w, h) in WIDTHS.items():
                    context = browser.new_context(
                        viewport={"width": w, "height": h}, color_scheme=theme
                    )
                    page = context.new_page()
                    page.goto(base + "/login")
                    if theme == "dark" and width == "1366":
                        shoot(page, "login", width, theme)
                    page.fill("input[name=password]", password)
                    page.click("button[type=submit]")
                    page.wait_for_url(base + "/")
                    page.goto(base + "/queue")
                    page.wait_for_selector("#conn[data-state=open]")
                    shoot(page, "queue", width, theme)
                    page.goto(base + "/")
                    page.wait_for_selector(".grid")
                    shoot(page, "library", width, theme)
                    page.goto(base + "/?view=table")
                    shoot(page, "library-table", width, theme)
                    page.goto(base + "/?view=grid")
                    page.goto(base + "/series/open-sky")
                    shoot(page, "series", width, theme)
                    page.goto(base + "/wanted")
                    shoot(page, "wanted", width, theme)
                    page.goto(base + "/history")
                    shoot(page, "history", width, theme)
                    page.goto(base + "/add")
                    page.fill(
                        "#add-url", base.rsplit(":", 1)[0] + ":" + site_port() + "/night-lanes.xml"
                    )
                    page.click("text=Preview")
                    page.wait_for_selector("#preview h3", timeout=30_000)
                    shoot(page, "add", width, theme)
                    page.goto(base + "/settings")
                    shoot(page, "settings", width, theme)
                    page.goto(base + "/system")
                    shoot(page, "system", width, theme)
                    context.close()
            browser.close()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def site_port() -> str:
    return (DATA / "demo-site-port").read_text().strip()


if __name__ == "__main__":
    main()
