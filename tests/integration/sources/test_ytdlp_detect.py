"""Which URLs yt-dlp claims: asked of a child interpreter by a process that has not loaded
yt-dlp's extractors (to keep their memory out of it), with the same answers as in-process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from showkeeper.sources.ytdlp_source import _extractor_here, _extractor_in_child

URLS = [
    "https://www.youtube.com/@veritasium",
    "https://vimeo.com/channels/staffpicks",
    "http://127.0.0.1:8000/feed.xml",
    "https://podcasts.example.org/show/feed.rss",
    '-c "x" $(id) https://example.com/a b',  # an argument, never a shell or an option
]


@pytest.mark.parametrize("url", URLS)
def test_the_child_answers_as_the_extractors_in_process(url: str) -> None:
    assert _extractor_in_child(url) == _extractor_here(url)


def test_a_feed_url_is_checked_without_loading_the_extractors_here() -> None:
    probe = (
        "import json, sys\n"
        "from showkeeper.sources.ytdlp_source import YtDlpSource\n"
        "claims = [YtDlpSource.matches_url(u) for u in sys.argv[1:]]\n"
        "print(json.dumps([claims, 'yt_dlp.extractor' in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, "https://vimeo.com/channels/staffpicks", URLS[2]],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    claims, loaded = json.loads(out.stdout)
    assert claims == [True, False]
    assert loaded is False
