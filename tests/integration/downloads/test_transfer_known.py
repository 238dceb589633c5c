"""Candidates whose source said what they are (a feed's enclosure type and length) are
fetched without a probe: one GET, whose headers and first bytes stand in for the HEAD."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from showkeeper.domain.candidates import Candidate
from showkeeper.downloads import files, foreground, service
from showkeeper.downloads.engine import download
from showkeeper.downloads.transfer import AllCandidatesFailed, TransferCancelled, TransferProgress
from tests.integration.downloads.queue_support import add_series
from tests.integration.downloads.servers import Resource, media_bytes

MiB = 1024 * 1024
HTML = b"<html><head><title>Episode 2</title></head><body>No video here.</body></html>"


CONCURRENCY = 2


@pytest.fixture
def settings(settings):
    return settings.model_copy(
        update={
            "download_concurrency": CONCURRENCY,
            "download_per_host_concurrency": CONCURRENCY,
            "download_connections": 1,
        }
    )


def methods(server, path: str) -> list[str]:
    return [r.method for r in server.requests_for(path)]


def leftovers(directory) -> list[str]:
    return sorted(p.name for p in directory.rglob("*") if p.is_file() or p.is_dir())


async def test_feed_candidate_with_type_and_length_is_one_get_and_no_head(
    server, client, settings, library_dir
):
    data = media_bytes(300_000)
    url = server.add("/ep1.mp4", Resource(data, content_type="video/mp4", etag='"e1"'))
    candidate = Candidate(url, mime="video/mp4", size=len(data))
    dest = library_dir / "Show" / "Show - S01E01.mp4"
    result = await download([candidate], dest, client=client, settings=settings)
    assert result.path == dest and dest.read_bytes() == data
    assert result.method == "direct"
    assert methods(server, "/ep1.mp4") == ["GET"]
    assert "Range" not in server.requests_for("/ep1.mp4")[0].headers
    assert leftovers(dest.parent) == [dest.name]


async def test_an_audio_enclosure_follows_redirects_and_keeps_its_type(
    server, client, settings, library_dir
):
    data = media_bytes(120_000)
    server.add("/media/ep.m4a", Resource(data, content_type="audio/mp4"))
    moved = {"Location": server.url("/media/ep.m4a")}
    url = server.add("/go", Resource(b"", status=302, headers=moved))
    candidate = Candidate(url, mime="audio/mpeg", size=999)  # the feed's type was wrong too
    dest = library_dir / "Pod - S01E02.mp3"
    result = await download([candidate], dest, client=client, settings=settings)
    assert result.path.read_bytes() == data
    assert result.path.suffix == ".mp4"  # the content decides, as after a probe
    assert [r.method for r in server.requests] == ["GET", "GET"]


async def test_a_candidate_without_type_or_size_is_still_probed(
    server, client, settings, library_dir
):
    data = media_bytes(100_000)
    bare = server.add("/bare.mp4", Resource(data, content_type="video/mp4"))
    typed = server.add("/typed.mp4", Resource(data, content_type="video/mp4"))
    sized = server.add("/sized.mp4", Resource(data, content_type="video/mp4"))
    playlist = Candidate(server.add("/p.mp4", Resource(data)), mime="audio/mpegurl", size=10)
    for n, candidate in enumerate(
        [
            Candidate(bare),
            Candidate(typed, mime="video/mp4"),
            Candidate(sized, size=len(data)),
        ]
    ):
        dest = library_dir / f"e{n}.mp4"
        result = await download([candidate], dest, client=client, settings=settings)
        assert result.path.read_bytes() == data
    for path in ("/bare.mp4", "/typed.mp4", "/sized.mp4"):
        assert methods(server, path) == ["HEAD", "GET"], path
    # a playlist type is never fetched blind, whatever its size: the probe decides
    result = await download([playlist], library_dir / "p.mp4", client=client, settings=settings)
    assert result.path.read_bytes() == data
    assert methods(server, "/p.mp4") == ["HEAD", "GET"]


async def test_a_get_answering_html_falls_back_to_the_probe_and_rotates_cleanly(
    server, client, settings, library_dir
):
    data = media_bytes(150_000)
    page = server.add("/ep2.mp4", Resource(HTML, content_type="text/html"))
    good = server.add("/alt.mp4", Resource(data, content_type="video/mp4"))
    c1 = Candidate(page, mime="video/mp4", size=8 * MiB)
    c2 = Candidate(good, mime="video/mp4", size=len(data))
    dest = library_dir / "Show" / "Show - S01E02.mp4"
    result = await download([c1, c2], dest, client=client, settings=settings, label="show")
    assert result.candidate == c2 and dest.read_bytes() == data
    assert result.tried == [c1.url, c2.url]
    # the GET said "a page", so the candidate was probed like any URL (yt-dlp then read the
    # page, found no video, and the rotation moved on)
    assert methods(server, "/ep2.mp4")[:2] == ["GET", "HEAD"]
    assert methods(server, "/alt.mp4") == ["GET"]
    assert leftovers(dest.parent) == [dest.name]


async def test_a_get_that_fails_falls_back_and_nothing_is_left(
    server, client, settings, library_dir
):
    gone = server.add("/gone.mp4", Resource(b"", status=404))
    candidate = Candidate(gone, mime="video/mp4", size=1234)
    dest = library_dir / "Show - S01E03.mp4"
    with pytest.raises(AllCandidatesFailed) as caught:
        await download([candidate], dest, client=client, settings=settings, label="x S01E03")
    assert "404" in caught.value.tried[0][1]
    assert methods(server, "/gone.mp4") == ["GET", "HEAD", "GET"]  # GET, then the probe
    # each short error body was read before release, so one connection carried all three
    assert len({r.peer for r in server.requests_for("/gone.mp4")}) == 1
    assert list(library_dir.iterdir()) == []


async def test_media_typed_bytes_that_are_not_media_fail_without_the_whole_body(
    server, client, settings, library_dir
):
    junk = b"<html>" + b"x" * (2 * MiB)
    url = server.add("/fake.mp4", Resource(junk, content_type="video/mp4", rate=4 * MiB))
    candidate = Candidate(url, mime="video/mp4", size=len(junk))
    with pytest.raises(AllCandidatesFailed) as caught:
        await download([candidate], library_dir / "f.mp4", client=client, settings=settings)
    assert "is not media" in caught.value.tried[0][1]
    assert methods(server, "/fake.mp4") == ["GET"]
    assert server.bytes_sent < len(junk)  # the first bytes decided, not the whole file
    assert list(library_dir.iterdir()) == []


@pytest.mark.parametrize("claimed", [1_000, 50 * MiB])
async def test_a_wrong_size_from_the_feed_still_ends_correct(
    server, client, settings, library_dir, claimed
):
    data = media_bytes(400_000)
    url = server.add("/liar.mp4", Resource(data, content_type="video/mp4"))
    candidate = Candidate(url, mime="video/mp4", size=claimed)
    settings = settings.model_copy(update={"download_connections": 4})
    reports: list[TransferProgress] = []
    result = await download(
        [candidate],
        library_dir / "l.mp4",
        client=client,
        settings=settings,
        on_progress=reports.append,
    )
    assert result.path.read_bytes() == data
    assert result.size == len(data)
    assert reports[-1].total_bytes == len(data)
    assert methods(server, "/liar.mp4") == ["GET"]


async def test_a_large_known_file_uses_the_first_get_as_its_first_connection(
    server, client, settings, library_dir
):
    data = media_bytes(24 * MiB)
    # 6 MiB/s per connection: one is too slow, so the engine opens more
    resource = Resource(data, content_type="video/mp4", etag='"big"', rate=6 * MiB)
    url = server.add("/big.mp4", resource)
    candidate = Candidate(url, mime="video/mp4", size=len(data))
    settings = settings.model_copy(update={"download_connections": 4})
    result = await download([candidate], library_dir / "big.mp4", client=client, settings=settings)
    assert hashlib.sha256(result.path.read_bytes()).digest() == hashlib.sha256(data).digest()
    seen = server.requests_for("/big.mp4")
    assert seen[0].method == "GET" and "Range" not in seen[0].headers
    ranged = [r.headers.get("Range") for r in seen[1:]]
    assert all(r is not None and r.startswith("bytes=") for r in ranged)
    assert len(ranged) >= 3 and "HEAD" not in methods(server, "/big.mp4")
    assert all(r.headers.get("If-Range") == '"big"' for r in seen[1:])
    assert not files.state_path(result.path).exists()


async def test_a_cancelled_known_download_resumes_with_range_and_if_range(
    server, client, settings, library_dir
):
    data = media_bytes(4 * MiB)
    url = server.add("/c.mp4", Resource(data, content_type="video/mp4", etag='"c1"', rate=4 * MiB))
    candidate = Candidate(url, mime="video/mp4", size=len(data))
    dest = library_dir / "c.mp4"
    cancel = asyncio.Event()

    def stop_at_a_third(report: TransferProgress) -> None:
        if report.downloaded_bytes > len(data) // 3:
            cancel.set()

    with pytest.raises(TransferCancelled):
        await download(
            [candidate],
            dest,
            client=client,
            settings=settings,
            on_progress=stop_at_a_third,
            cancel=cancel,
        )
    kept = files.part_path(dest).stat().st_size
    assert 0 < kept < len(data)
    assert methods(server, "/c.mp4") == ["GET"]
    result = await download([candidate], dest, client=client, settings=settings)
    assert result.path.read_bytes() == data
    # the .part's state names a validator: probed first, then resumed from where it stopped
    assert methods(server, "/c.mp4") == ["GET", "HEAD", "GET"]
    last = server.requests_for("/c.mp4", "GET")[-1].headers
    assert last["Range"] == f"bytes={kept}-" and last["If-Range"] == '"c1"'


async def test_a_worker_pool_reuses_its_connections_across_episodes(ctx, server, library_dir):
    concurrency = CONCURRENCY
    bodies = [media_bytes(200_000 + n) for n in range(6)]
    episodes = await add_series(
        ctx.db,
        "pod",
        [
            (
                1,
                n + 1,
                [
                    {
                        "url": server.add(f"/e{n}.mp3", Resource(body, content_type="audio/mpeg")),
                        "mime": "audio/mpeg",
                        "size": len(body),
                    }
                ],
            )
            for n, body in enumerate(bodies)
        ],
        name="Pod",
    )
    queued = await service.enqueue_episodes(ctx, episodes)
    final = await foreground.run_until_finished(ctx, queued.item_ids, poll_interval_s=0.1)
    assert set(final.values()) == {"completed"}
    assert [r.method for r in server.requests] == ["GET"] * len(bodies)
    peers = {r.peer for r in server.requests}
    assert 0 not in peers and len(peers) <= concurrency
    on_disk = sorted(p.read_bytes() for p in library_dir.rglob("*.mp4"))
    assert on_disk == sorted(bodies)
