"""`showkeeper demo` as a newcomer runs it: sample clips made, setup done, password printed,
the library scanned, three series added, episodes downloaded and filed with NFOs; a second
run reuses the clips and adds nothing twice."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def start(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "showkeeper",
            "demo",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        assert line, f"demo exited ({proc.poll()}):\n" + "".join(lines)
        lines.append(line)
        if "Ctrl-C stops the demo" in line:
            return proc, lines
    raise AssertionError("demo did not start:\n" + "".join(lines))


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    return out


def wait_for(check, what: str, timeout: float = 240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_demo_runs_the_whole_flow_offline(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    port = free_port()
    proc, lines = start(data_dir, port)
    try:
        text = "".join(lines)
        assert "making sample clips: 19/19" in text
        assert f"http://127.0.0.1:{port}/" in text
        password = re.search(r"password: (\S+)\)", text).group(1)  # type: ignore[union-attr]
        base = f"http://127.0.0.1:{port}"
        wrong = httpx.post(f"{base}/api/auth/login", json={"password": "not it"})
        assert wrong.status_code == 401
        token = httpx.post(f"{base}/api/auth/login", json={"password": password}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}

        def series() -> dict[str, dict]:
            items = httpx.get(f"{base}/api/series", headers=auth).json()["items"]
            return {s["key"]: s for s in items}

        def all_loaded() -> dict[str, dict] | None:
            found = series()
            ready = {k for k, s in found.items() if s["loading_status"] == "completed"}
            want = {"garden-notes", "open-sky", "night-lanes", "harbor-walks"}
            return found if want <= ready else None

        found = wait_for(all_loaded, "the sample series")
        assert found["garden-notes"]["downloaded_count"] == 2  # the scan found the legacy folder
        assert found["open-sky"]["episode_count"] == 12
        assert found["night-lanes"]["episode_count"] == 3
        assert found["harbor-walks"]["episode_count"] == 4
        # the HLS series too, ahead of the feed's queue
        added = httpx.post(
            f"{base}/api/queue/add",
            json={"series_key": "night-lanes", "priority": 10},
            headers=auth,
        )
        assert added.status_code == 201 and added.json()["added"] == 3

        def done(key: str, n: int) -> bool:
            return series()[key]["downloaded_count"] >= n

        wait_for(lambda: done("night-lanes", 1), "an HLS episode", timeout=300)
        wait_for(lambda: done("open-sky", 1), "a feed episode", timeout=300)
        library = data_dir / "library"
        open_sky = library / "Open Sky (2024)" / "Season 01"
        first = open_sky / "Open Sky - S01E01 - First Light over the Ridge"
        # the first episode is filed, then its NFO is written (after the download, by the
        # NFO writer; under load a later episode may finish first)
        wait_for(lambda: first.with_suffix(".nfo").exists(), "the first episode's NFO")
        assert first.with_suffix(".mp4").stat().st_size > 100_000
        assert (library / "Open Sky (2024)" / "tvshow.nfo").exists()
        night = list((library / "Night Lanes (2024)" / "Season 01").glob("*.mp4"))
        assert night, list(library.rglob("*"))
        # the pages show it all
        html = httpx.get(f"{base}/series/open-sky", headers=auth).text
        assert "On disk" in html and "First Light over the Ridge" in html
    finally:
        out = stop(proc)
    assert "Traceback" not in out, out

    # a second run: the clips are reused, nothing is added twice, the password still works
    proc, lines = start(data_dir, port)
    try:
        text = "".join(lines)
        assert "making sample clips" not in text and "adding" not in text
        keys = sorted(
            s["key"]
            for s in httpx.get(
                f"http://127.0.0.1:{port}/api/series",
                headers={
                    "Authorization": "Bearer "
                    + httpx.post(
                        f"http://127.0.0.1:{port}/api/auth/login", json={"password": password}
                    ).json()["token"]
                },
            ).json()["items"]
        )
        assert keys == ["garden-notes", "harbor-walks", "night-lanes", "open-sky"]
    finally:
        stop(proc)
