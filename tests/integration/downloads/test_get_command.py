"""`showkeeper get URL`: a fresh data dir to a filed library in one command; a second run
makes one conditional request and downloads nothing. Real processes, a real feed server
with ETags, media made by ffmpeg."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.integration.downloads.servers import make_media
from tests.sources_docs import podcast_rss

ETAG = '"feed-v1"'


class Site:
    """A podcast feed (ETag, 304 on a match) and its MP4 files; every request recorded."""

    def __init__(self, media: Path, episodes: int) -> None:
        self.requests: list[tuple[str, str, int]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, head: bool) -> None:
                if self.path == "/feed.xml":
                    if self.headers.get("If-None-Match") == ETAG:
                        return self._send(304, b"", head, "application/rss+xml")
                    items = [
                        f"<item><title>Episode {n}</title><guid>ep-{n}</guid>"
                        f"<itunes:episode>{n}</itunes:episode>"
                        f'<enclosure url="{site.base}/e{n}.mp4" type="video/mp4" '
                        f'length="{(media / f"e{n}.mp4").stat().st_size}"/></item>'
                        for n in range(1, episodes + 1)
                    ]
                    return self._send(200, podcast_rss(items), head, "application/rss+xml")
                path = media / self.path.lstrip("/")
                if self.path.startswith("/e") and path.is_file():
                    return self._send(200, path.read_bytes(), head, "video/mp4")
                return self._send(404, b"not found", head, "text/plain")

            def _send(self, status: int, body: bytes, head: bool, kind: str) -> None:
                site.requests.append((self.command, self.path, status))
                self.send_response(status)
                if status != 304:
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(body)))
                if self.path == "/feed.xml":
                    self.send_header("ETag", ETAG)
                self.end_headers()
                if not head and status != 304:
                    self.wfile.write(body)

            def do_GET(self) -> None:
                self._answer(head=False)

            def do_HEAD(self) -> None:
                self._answer(head=True)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    media = tmp_path / "media"
    media.mkdir()
    first = make_media(media / "e1.mp4", seconds=1)
    for n in (2, 3):
        shutil.copyfile(first, media / f"e{n}.mp4")
    served = Site(media, 3)
    thread = threading.Thread(target=served.server.serve_forever, daemon=True)
    thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()


def get(site: Site, data_dir: Path, library: Path | None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SHOWKEEPER_DATA_DIR": str(data_dir),
        "SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
        "COLUMNS": "120",
    }
    env.pop("SHOWKEEPER_LIBRARY_DIR", None)
    argv = [sys.executable, "-m", "showkeeper", "get", f"{site.base}/feed.xml"]
    if library is not None:
        argv += ["--library", str(library)]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=180)


def test_get_files_a_feed_and_a_rerun_asks_once(site: Site, tmp_path: Path) -> None:
    data_dir, library = tmp_path / "fresh-data", tmp_path / "lib"
    library.mkdir()
    first = get(site, data_dir, library)
    assert first.returncode == 0, first.stderr
    assert "added" in first.stdout and "3 downloaded, 0 failed" in first.stdout
    videos = sorted(p.name for p in library.rglob("*.mp4"))
    assert len(videos) == 3 and all("Episode" in name for name in videos)
    assert len(list(library.rglob("*.nfo"))) >= 3  # episode NFOs (and tvshow.nfo)

    site.requests.clear()
    again = get(site, data_dir, library)
    assert again.returncode == 0, again.stderr
    assert "nothing to download" in again.stdout and "0 downloaded" in again.stdout
    assert site.requests == [("GET", "/feed.xml", 304)]  # one conditional request, no media

    no_library = get(site, tmp_path / "other-data", None)
    assert no_library.returncode == 2 and "no library folder" in no_library.stderr
