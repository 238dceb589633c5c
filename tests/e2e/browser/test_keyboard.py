"""The keyboard alone: skip link, Tab order through the bar, a dialog opened with Enter,
closed with Escape, confirmed with Enter; focus is always visible."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.e2e.browser.conftest import Server, Session

pytestmark = pytest.mark.browser

OpenSession = Callable[[Server], Session]


def test_keyboard_only_delete_of_a_series(ready_server: Server, open_session: OpenSession) -> None:
    folder = ready_server.library_dir / "Key Show (2020)"
    (folder / "Season 01").mkdir(parents=True)
    (folder / "Season 01" / "Key Show - S01E01.mkv").write_bytes(b"\x1a\x45\xdf\xa3" + bytes(64))
    (folder / "key").write_text("key-show\n")
    api = {"X-Api-Key": ready_server.api_key or ""}
    started = httpx.post(f"{ready_server.url}/api/series/rescan", json={}, headers=api)
    assert started.status_code == 202, started.text
    for _ in range(200):
        scan = httpx.get(f"{ready_server.url}/api/library/scan", headers=api).json()
        if scan["running"] is None and scan["last"]["scan_id"] == started.json()["scan_id"]:
            break
    s = open_session(ready_server)
    s.login()
    page = s.page
    s.goto("/series/key-show")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    # Tab on to the delete button, and open the dialog with Enter
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Delete series":
            break
    else:
        raise AssertionError("Delete series is not reachable with Tab")
    page.keyboard.press("Enter")
    dialog = page.locator("#delete-dialog")
    assert dialog.is_visible()
    assert page.evaluate("document.activeElement.textContent.trim()") == "Cancel"  # safe default
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert folder.is_dir()
    # again; this time tick "also delete its folder" and confirm, keyboard only
    page.locator("text=Delete series").first.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Shift+Tab")  # back from Cancel to the confirm button
    page.keyboard.press("Shift+Tab")  # to the checkbox
    page.keyboard.press("Space")
    assert page.locator("#delete-dialog [name=delete_files]").is_checked()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(ready_server.url + "/")
    assert not folder.exists()
    assert "No series yet" in page.locator("main").inner_text()
    assert s.watch.clean(), s.watch
