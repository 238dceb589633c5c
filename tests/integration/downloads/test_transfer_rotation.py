"""Rotation over candidates: probe, resolve, fall through to the next; the failure line."""

from __future__ import annotations

import json

import pytest

from showkeeper.domain.candidates import Candidate
from showkeeper.downloads.engine import download
from showkeeper.downloads.transfer import AllCandidatesFailed
from tests.integration.downloads.servers import Resource, media_bytes

HTML = b"<html><head><title>Episode 2</title></head><body>No video here.</body></html>"


async def test_404_then_html_then_working_candidate(server, client, settings, library_dir):
    data = media_bytes(200_000)
    c1 = Candidate(server.add("/missing.mp4", Resource(b"", status=404)))
    c2 = Candidate(server.add("/page", Resource(HTML, content_type="text/html")))
    c3 = Candidate(server.add("/ok.mp4", Resource(data, content_type="video/mp4")), quality=720)
    dest = library_dir / "Show" / "Season 01" / "Show - S01E02.mp4"
    result = await download(
        [c1, c2, c3], dest, client=client, settings=settings, label="my-show S01E02"
    )
    assert result.candidate == c3
    assert result.method == "direct"
    assert result.tried == [c1.url, c2.url, c3.url]
    assert dest.read_bytes() == data
    assert server.requests_for("/missing.mp4")  # probed (HEAD, then GET fallback)
    assert [r.method for r in server.requests_for("/missing.mp4")] == ["HEAD", "GET"]
    assert sorted(p.name for p in dest.parent.iterdir()) == [dest.name]
    assert not (settings.data_dir / "logs" / "download_errors.log").exists()


async def test_all_fail_raises_with_tried_list_and_logs_one_line(
    server, client, settings, library_dir
):
    c1 = Candidate(server.add("/missing.mp4", Resource(b"", status=404)))
    c2 = Candidate(server.add("/page", Resource(HTML, content_type="text/html")))
    c3 = Candidate(server.add("/notes.txt", Resource(b"hello", content_type="text/plain")))
    c4 = Candidate("http://127.0.0.1:1/refused.mp4")
    dest = library_dir / "Show - S01E02.mp4"
    with pytest.raises(AllCandidatesFailed) as caught:
        await download(
            [c1, c2, c3, c4], dest, client=client, settings=settings, label="my-show S01E02"
        )
    error = caught.value
    assert [url for url, _ in error.tried] == [c1.url, c2.url, c3.url, c4.url]
    reasons = [reason for _, reason in error.tried]
    assert "404" in reasons[0]
    assert reasons[1].startswith("yt-dlp:")
    assert "text/plain" in reasons[2]
    assert "could not connect" in reasons[3]
    assert error.transient  # the refused connection may work later
    assert error.line.startswith("All candidates failed for my-show S01E02; tried=[")
    assert "\n" not in error.line
    tried = json.loads(error.line.split("tried=", 1)[1])
    assert tried == [f"{url}: {reason}" for url, reason in error.tried]
    log = (settings.data_dir / "logs" / "download_errors.log").read_text().splitlines()
    assert len(log) == 1 and log[0].endswith(error.line)
    assert list(library_dir.iterdir()) == []


async def test_no_candidates_is_a_failure_too(client, settings, library_dir):
    with pytest.raises(AllCandidatesFailed, match=r"for x S01E01; tried=\[\]"):
        await download(
            [], library_dir / "x.mp4", client=client, settings=settings, label="x S01E01"
        )


async def test_head_refused_get_probe_works(server, client, settings, library_dir):
    data = media_bytes(50_000)
    url = server.add("/nohead.mp4", Resource(data, content_type="video/mp4", head_status=405))
    result = await download(
        [Candidate(url)], library_dir / "h.mp4", client=client, settings=settings
    )
    assert result.path.read_bytes() == data
    seen = [(r.method, r.headers.get("Range"), r.status) for r in server.requests]
    assert seen[:2] == [("HEAD", None, 405), ("GET", "bytes=0-0", 206)]
