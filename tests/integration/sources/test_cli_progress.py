"""`showkeeper source refresh` on a real terminal: a bar once it has run for a second, none
for a quick one, and the summary line stays either way."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.sources_docs import podcast_item, podcast_rss
from tests.terminal import BAR, run_in_terminal, screen_lines


class SlowFeeds:
    """Feeds on 127.0.0.1 that answer after ``delay_s``."""

    def __init__(self) -> None:
        self.delay_s = 0.0
        feeds = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                time.sleep(feeds.delay_s)
                number = int(self.path.strip("/").removesuffix(".xml") or 1)
                body = podcast_rss([podcast_item(n, number=n) for n in range(1, number + 1)])
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def feeds() -> Iterator[SlowFeeds]:
    served = SlowFeeds()
    thread = threading.Thread(target=served.server.serve_forever, daemon=True)
    thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()


def test_refresh_shows_a_bar_only_when_it_takes_a_while(
    feeds: SlowFeeds, data_dir: Path, library_dir: Path
) -> None:
    env = {
        **os.environ,
        "SHOWKEEPER_DATA_DIR": str(data_dir),
        "SHOWKEEPER_LIBRARY_DIR": str(library_dir),
        "SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
        "COLUMNS": "100",
        "TERM": "xterm-256color",
    }
    sk = [sys.executable, "-m", "showkeeper"]
    for n in (1, 2):
        screen_lines(run_in_terminal([*sk, "series", "add", f"{feeds.base}/{n}.xml"], env), 100)

    quick = screen_lines(run_in_terminal([*sk, "source", "refresh"], env), 100)
    assert not any(BAR in line for line in quick), quick
    assert any("refreshed 2 series" in line for line in quick), quick

    feeds.delay_s = 1.6
    raw = run_in_terminal([*sk, "source", "refresh"], env)
    slow = screen_lines(raw, 100)
    assert "refreshing" in raw and BAR in raw  # the bar was drawn while it ran
    assert not any(BAR in line for line in slow), slow  # and removed at the end
    assert any("refreshed 2 series" in line for line in slow), slow
