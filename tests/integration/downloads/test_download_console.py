"""What a person sees when `showkeeper get URL` downloads a season: a bar per running
download while it runs, one line per finished episode, a summary, and nothing internal.

A real feed of 10 episodes (real MP4s made by ffmpeg, each padded to a distinct file) on
127.0.0.1, throttled so the bars live for a while; `showkeeper get` runs as a process, once
on a pseudo-terminal (pyte replays what rich drew, step by step) and once piped.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyte
import pytest

from tests.e2e.podcast_site import Enclosure, Item, ThreadedSite, rss
from tests.integration.downloads.servers import Resource, media_bytes
from tests.terminal import BAR, run_in_terminal, screen_lines

EPISODES = 10
SIZE = 400_000
RATE = 1_000_000.0  # bytes/s per response: a bar lives for ~0.4 s
PER_HOST = 3
COLUMNS = 80
LONG_TITLE = "A Very Long Title " * 8  # wider than the terminal
CODE = re.compile(r"S\d\dE\d\d")
# downloads.job.make_owner: "<host>:<pid>:<8 hex>"
OWNER = re.compile(re.escape(socket.gethostname()[:60]) + r":\d+:[0-9a-f]{8}")
INTERNAL = ("owner", "item_id", "lease", "episode_id")


@dataclass(frozen=True)
class Show:
    feed: str
    """Episodes 1-10."""
    feed_with_gone: str
    """The same and episode 11, whose file is gone (404)."""
    titles: dict[int, str]
    """episode number -> title, as the feed says."""


def title_of(n: int) -> str:
    return LONG_TITLE.strip() if n == EPISODES else f"Chapter {n}: the part about {n * 7}"


@pytest.fixture
def show() -> Iterator[Show]:
    """The feed: episodes 1-10 served (throttled), episode 11 listed but gone (404)."""
    site = ThreadedSite().start()
    try:
        items, titles = [], {}
        for n in range(1, EPISODES + 2):
            url = site.url(f"/media/e{n}.mp4")
            if n <= EPISODES:
                body = media_bytes(SIZE)
                site.server.add(
                    f"/media/e{n}.mp4", Resource(body=body, content_type="video/mp4", rate=RATE)
                )
            titles[n] = title_of(n)
            items.append(Item(titles[n], 1, n, (Enclosure(url, length=SIZE),)))
        kind = "application/rss+xml"
        yield Show(
            feed=site.add("/ok.xml", rss("Console Show", items[:EPISODES]), kind),
            feed_with_gone=site.add("/all.xml", rss("Console Show", items), kind),
            titles=titles,
        )
    finally:
        site.stop()


def environment(tmp_path: Path, name: str) -> dict[str, str]:
    env = {
        **os.environ,
        "SHOWKEEPER_DATA_DIR": str(tmp_path / f"data-{name}"),
        "SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
        "SHOWKEEPER_SCHEDULER_ENABLED": "false",
        "SHOWKEEPER_DOWNLOAD_PER_HOST_CONCURRENCY": str(PER_HOST),
        "SHOWKEEPER_DOWNLOAD_CONCURRENCY": str(PER_HOST),
        "SHOWKEEPER_DOWNLOAD_MAX_ATTEMPTS": "1",
        "COLUMNS": str(COLUMNS),
        "TERM": "xterm-256color",
    }
    env.pop("NO_COLOR", None)
    env.pop("SHOWKEEPER_LIBRARY_DIR", None)
    return env


def get_argv(feed: str, library: Path) -> list[str]:
    return [sys.executable, "-m", "showkeeper", "get", feed, "--library", str(library)]


def most_bars_at_once(raw: str) -> int:
    """Replay the output in small steps: the most bar lines on the screen at any moment."""
    screen = pyte.Screen(COLUMNS, 40)
    stream = pyte.Stream(screen)
    text = raw.replace("\n", "\r\n")
    most = 0
    for start in range(0, len(text), 64):
        stream.feed(text[start : start + 64])
        most = max(most, sum(1 for line in screen.display if BAR in line))
    return most


def finished_lines(lines: list[str], mark: str) -> list[str]:
    return [line for line in lines if line.startswith(mark)]


def assert_one_line_per_episode(lines: list[str], show: Show, episodes: range) -> None:
    done = finished_lines(lines, "✓")
    assert len(done) == len(episodes), lines
    for n in episodes:
        code = f"S01E{n:02d}"
        (line,) = [line for line in done if line.startswith(f"✓ {code} ")]
        title = show.titles[n]
        if n == EPISODES:  # too long for the terminal: shortened, still one line
            assert len(line) <= COLUMNS and "…" in line, line
            assert title[:20] in line, line
        else:
            assert title in line, line
        assert re.search(r"  \d+\.\d kB  \d+\.\d s$", line), line  # size and time taken


def assert_nothing_internal(text: str) -> None:
    assert not OWNER.search(text), text[-3000:]
    for word in INTERNAL:
        assert word not in text, (word, text[-3000:])


def test_a_ten_episode_get_on_a_terminal(show: Show, tmp_path: Path) -> None:
    library = tmp_path / "library-tty"
    library.mkdir()
    raw = run_in_terminal(get_argv(show.feed, library), environment(tmp_path, "tty"))
    lines = screen_lines(raw, COLUMNS)

    assert BAR in raw, raw[-3000:]  # bars were drawn while it ran...
    assert 1 <= most_bars_at_once(raw) <= PER_HOST  # ...one per running download at most
    assert not any(BAR in line for line in lines), lines  # ...and gone at the end
    for chunk in raw.split("\n"):  # a bar is labelled with its episode, never with a log line
        if BAR in chunk:
            assert CODE.search(chunk), chunk
            assert not re.search(r"\b(warning|error|info)\b|20\d\d-\d\d-", chunk), chunk
    assert_one_line_per_episode(lines, show, range(1, EPISODES + 1))
    assert not finished_lines(lines, "✗"), lines
    summary = [line for line in lines if "downloaded," in line]
    assert len(summary) == 1, lines
    assert re.fullmatch(r"10 downloaded, 0 failed \(4\.0 MB in \d+\.\d s\)", summary[0]), summary
    assert_nothing_internal(raw)
    assert len(list(library.rglob("*.mp4"))) == EPISODES


def test_piped_output_has_lines_and_no_bars(show: Show, tmp_path: Path) -> None:
    library = tmp_path / "library-piped"
    library.mkdir()
    result = subprocess.run(
        get_argv(show.feed_with_gone, library),
        capture_output=True,
        text=True,
        env=environment(tmp_path, "piped"),
        timeout=180,
    )
    out = result.stdout
    assert result.returncode == 1, (out, result.stderr)
    assert "\x1b" not in out and BAR not in out and BAR not in result.stderr  # no bars, no codes
    lines = out.splitlines()
    assert_one_line_per_episode(lines, show, range(1, EPISODES + 1))
    (failed,) = finished_lines(lines, "✗")
    assert failed.startswith(f"✗ S01E11 {show.titles[11]}  ") and "404" in failed, failed
    assert "http" not in failed  # the short reason, not the URL
    assert lines[-1].startswith("10 downloaded, 1 failed (4.0 MB in "), lines
    assert "1 download(s) failed" in result.stderr
    assert_nothing_internal(out + result.stderr)
    assert len(list(library.rglob("*.mp4"))) == EPISODES
