"""Direct HTTP transfers against a real local server: resume, ranges, retries, crashes."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
from pathlib import Path

import pytest

from showkeeper.config import Settings
from showkeeper.domain.candidates import Candidate
from showkeeper.downloads import files
from showkeeper.downloads.engine import download
from showkeeper.downloads.transfer import AllCandidatesFailed, TransferCancelled, TransferProgress
from tests.integration.downloads.servers import (
    Resource,
    fetch_argv,
    fetch_env,
    make_media,
    media_bytes,
)

MiB = 1024 * 1024


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def with_connections(settings: Settings, n: int) -> Settings:
    return settings.model_copy(update={"download_connections": n})


async def test_small_file_single_stream(server, client, settings, library_dir) -> None:
    data = media_bytes(3 * MiB)
    url = server.add("/ep.mp4", Resource(data, content_type="video/mp4"))
    dest = library_dir / "Show" / "Season 01" / "Show - S01E01.mp4"
    result = await download([Candidate(url)], dest, client=client, settings=settings)
    assert result.path == dest.resolve()
    assert result.method == "direct" and result.size == len(data)
    assert result.tried == [url]
    assert sha(dest.read_bytes()) == sha(data)
    assert sorted(p.name for p in dest.parent.iterdir()) == [dest.name]
    gets = server.requests_for("/ep.mp4", "GET")
    assert len(gets) == 1 and "Range" not in gets[0].headers


async def test_the_content_decides_the_extension(
    server, client, settings, library_dir, tmp_path
) -> None:
    # an MP4 that the server calls Matroska is filed as .mp4, and a Matroska file called
    # MP4 as .mkv: the server's word never names a file
    url = server.add("/v", Resource(media_bytes(1000), content_type="video/x-matroska"))
    result = await download(
        [Candidate(url)], library_dir / "ep.mp4", client=client, settings=settings
    )
    assert result.path.name == "ep.mp4"
    mkv = make_media(tmp_path / "real.mkv", seconds=1).read_bytes()
    url = server.add("/w.mp4", Resource(mkv, content_type="video/mp4"))
    result = await download(
        [Candidate(url)], library_dir / "ep2.mp4", client=client, settings=settings
    )
    assert result.path.name == "ep2.mkv" and result.path.read_bytes() == mkv
    assert not (library_dir / "ep2.mp4").exists()


async def test_body_ends_early_is_resumed_with_range(server, client, settings, library_dir) -> None:
    data = media_bytes(4 * MiB)
    resource = Resource(data, content_type="video/mp4", cut_after=1_500_000, cut_times=1)
    url = server.add("/cut.mp4", resource)
    dest = library_dir / "cut.mp4"
    seen_final: list[bool] = []

    def on_progress(report: TransferProgress) -> None:
        seen_final.append(dest.exists())

    result = await download(
        [Candidate(url)], dest, client=client, settings=settings, on_progress=on_progress
    )
    assert sha(result.path.read_bytes()) == sha(data)
    gets = server.requests_for("/cut.mp4", "GET")
    assert [g.headers.get("Range") for g in gets] == [None, "bytes=1500000-"]
    assert gets[1].status == 206
    # Nothing under the final name until the end; the last report comes after the rename.
    assert len(seen_final) >= 2 and not any(seen_final[:-1]) and seen_final[-1]


async def test_server_ignoring_range_restarts_from_zero(
    server, client, settings, library_dir
) -> None:
    data = media_bytes(4 * MiB)
    resource = Resource(
        data, content_type="video/mp4", cut_after=2_000_000, cut_times=1, ignore_range=True
    )
    url = server.add("/norange.mp4", resource)
    result = await download(
        [Candidate(url)], library_dir / "n.mp4", client=client, settings=settings
    )
    assert sha(result.path.read_bytes()) == sha(data)
    gets = server.requests_for("/norange.mp4", "GET")
    assert gets[1].headers.get("Range") == "bytes=2000000-"
    assert gets[1].status == 200  # ignored: the engine truncated and took the whole body
    assert result.size == len(data)


async def test_changed_resource_is_not_spliced(server, client, settings, library_dir) -> None:
    """If-Range: a resumed request against a changed ETag gets the new body from zero."""
    old, new = media_bytes(2 * MiB), media_bytes(2 * MiB)
    resource = Resource(old, etag='"v1"', cut_after=MiB, cut_times=1)
    url = server.add("/changing.bin", resource)
    dest = library_dir / "c.mp4"
    settings = with_connections(settings, 1)

    async def change_after_cut() -> None:
        while not server.requests_for("/changing.bin", "GET"):
            await asyncio.sleep(0.001)
        resource.body, resource.etag = new, '"v2"'

    # The ETag changes between the probe and the resume: the state no longer matches and
    # the If-Range validator makes the server send the whole new body.
    changer = asyncio.create_task(change_after_cut())
    result = await download([Candidate(url)], dest, client=client, settings=settings)
    await changer
    assert result.path.read_bytes() in (old, new)
    assert sha(result.path.read_bytes()) == sha(new)
    resumed = server.requests_for("/changing.bin", "GET")[1]
    assert resumed.headers.get("If-Range") == '"v1"'
    assert resumed.status == 200


async def test_multi_connection_exact_hash_and_ranges(
    server, client, settings, library_dir
) -> None:
    data = media_bytes(24 * MiB)
    # 6 MiB/s per connection: one connection is too slow, so the engine opens more.
    resource = Resource(data, content_type="video/x-matroska", etag='"b"', rate=6 * MiB)
    url = server.add("/big.mkv", resource)
    settings = with_connections(settings, 4)
    reports: list[TransferProgress] = []
    result = await download(
        [Candidate(url)],
        library_dir / "big.mkv",
        client=client,
        settings=settings,
        on_progress=reports.append,
    )
    assert sha(result.path.read_bytes()) == sha(data)
    ranges = [g.headers["Range"] for g in server.requests_for("/big.mkv", "GET")]
    assert len(ranges) >= 4 and len(set(ranges)) == len(ranges)
    assert all(r.startswith("bytes=") and not r.endswith("-") for r in ranges)
    assert not files.state_path(result.path).exists()
    assert reports[-1].downloaded_bytes == len(data)
    assert reports[-1].total_bytes == len(data)


async def test_multi_connection_falls_back_when_ranges_are_ignored(
    server, client, settings, library_dir
) -> None:
    data = media_bytes(20 * MiB)
    resource = Resource(data, content_type="video/mp4", headers={"Accept-Ranges": "bytes"})
    resource.ignore_range = True  # advertises ranges but ignores them
    url = server.add("/liar.mp4", resource)
    result = await download(
        [Candidate(url)],
        library_dir / "l.mp4",
        client=client,
        settings=with_connections(settings, 4),
    )
    assert sha(result.path.read_bytes()) == sha(data)


async def test_progress_is_rate_limited(server, client, settings, library_dir) -> None:
    data = media_bytes(2 * MiB)
    url = server.add("/slow.mp4", Resource(data, content_type="video/mp4", rate=2 * MiB))
    loop = asyncio.get_running_loop()
    stamps: list[float] = []
    await download(
        [Candidate(url)],
        library_dir / "slow.mp4",
        client=client,
        settings=settings,
        on_progress=lambda _: stamps.append(loop.time()),
    )
    gaps = [b - a for a, b in itertools.pairwise(stamps[:-1])]
    assert len(stamps) >= 3
    assert min(gaps) >= 0.24  # at most ~4 reports per second (the last one is extra)


async def test_cancel_keeps_part_and_the_next_run_resumes(
    server, client, settings, library_dir
) -> None:
    data = media_bytes(4 * MiB)
    url = server.add("/c.mp4", Resource(data, content_type="video/mp4", rate=4 * MiB))
    dest = library_dir / "c.mp4"
    cancel = asyncio.Event()

    def stop_at_a_third(report: TransferProgress) -> None:
        if report.downloaded_bytes > len(data) // 3:
            cancel.set()

    with pytest.raises(TransferCancelled):
        await download(
            [Candidate(url)],
            dest,
            client=client,
            settings=settings,
            on_progress=stop_at_a_third,
            cancel=cancel,
        )
    part = files.part_path(dest)
    kept = part.stat().st_size
    assert 0 < kept < len(data) and not dest.exists()
    result = await download([Candidate(url)], dest, client=client, settings=settings)
    assert sha(result.path.read_bytes()) == sha(data)
    assert server.requests_for("/c.mp4", "GET")[-1].headers["Range"] == f"bytes={kept}-"
    files.remove_partials(dest)
    assert dest.exists()


async def test_5xx_is_retried_then_gives_up_with_reason(
    server, client, settings, library_dir
) -> None:
    url = server.add("/down.mp4", Resource(b"", status=503))
    with pytest.raises(AllCandidatesFailed) as caught:
        await download([Candidate(url)], library_dir / "d.mp4", client=client, settings=settings)
    assert "503" in caught.value.tried[0][1]
    assert list(library_dir.iterdir()) == []


# -- real processes, kill -9 -------------------------------------------------------------


async def _run_until(proc: asyncio.subprocess.Process, done, final: Path) -> None:
    while not done():
        assert proc.returncode is None, "fetch finished before it could be killed"
        assert not final.exists()
        await asyncio.sleep(0.01)


async def _fetch(url: str, out: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *fetch_argv(url, out),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.slow
async def test_kill_9_then_resume_single_stream(server, tmp_path, library_dir) -> None:
    data = media_bytes(24 * MiB)
    resource = Resource(data, content_type="video/mp4", etag='"k"', rate=8 * MiB)
    url = server.add("/kill.mp4", resource)
    out = library_dir / "kill.mp4"
    part = files.part_path(out)
    env = fetch_env(tmp_path / "data", connections=1)
    proc = await _fetch(url, out, env)
    await _run_until(proc, lambda: part.exists() and part.stat().st_size >= 0.4 * len(data), out)
    proc.kill()
    await proc.wait()
    kept = part.stat().st_size
    assert kept < len(data) and not out.exists()
    resource.rate = None
    before = len(server.requests)
    proc = await _fetch(url, out, env)
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    resumed = [r for r in server.requests[before:] if r.method == "GET"]
    assert [r.headers.get("Range") for r in resumed] == [f"bytes={kept}-"]
    assert sha(out.read_bytes()) == sha(data)
    assert sorted(p.name for p in library_dir.iterdir()) == ["kill.mp4"]


@pytest.mark.slow
async def test_kill_9_then_resume_every_part(server, tmp_path, library_dir) -> None:
    data = media_bytes(24 * MiB)
    resource = Resource(data, content_type="video/mp4", etag='"m"', rate=2 * MiB)
    url = server.add("/multi.mp4", resource)
    out = library_dir / "multi.mp4"
    env = fetch_env(tmp_path / "data", connections=4)
    proc = await _fetch(url, out, env)
    state = files.state_path(out)

    def saved_ranges() -> list[list[int]]:
        saved = files.read_state(state) or {}
        return files.merge_ranges(
            tuple(r) for r in saved.get("done", []) + saved.get("written", [])
        )

    await _run_until(proc, lambda: sum(b - a for a, b in saved_ranges()) >= 0.4 * len(data), out)
    proc.kill()
    await proc.wait()
    assert json.loads(state.read_text())["boot"] == files.boot_id()
    done = saved_ranges()
    assert len(done) >= 2  # several parts were in flight (saved in the page cache, same boot)
    resource.rate = None
    before = len(server.requests)
    proc = await _fetch(url, out, env)
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert sha(out.read_bytes()) == sha(data)
    requested = 0
    for r in server.requests[before:]:
        if r.method == "GET":
            first, last = r.headers["Range"].removeprefix("bytes=").split("-")
            requested += int(last) + 1 - int(first)
            assert not any(a <= int(first) < b for a, b in done)  # no saved byte is fetched again
    assert requested <= len(data) - sum(b - a for a, b in done)
    assert sorted(p.name for p in library_dir.iterdir()) == ["multi.mp4"]


@pytest.mark.slow
async def test_fetch_command_failure_is_one_line(server, tmp_path) -> None:
    url = server.add("/gone.mp4", Resource(b"", status=404))
    out = tmp_path / "o.mp4"
    proc = await _fetch(url, out, fetch_env(tmp_path / "data"))
    _, stderr = await proc.communicate()
    assert proc.returncode == 1
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert "All candidates failed for o.mp4; tried=[" in lines[0] and "404" in lines[0]
    assert not out.exists()


async def test_unsynced_ranges_are_not_trusted_after_a_reboot(
    server, client, settings, library_dir
) -> None:
    """Ranges only written to the page cache count within one boot; after a reboot (a new
    boot id) only the fdatasynced ones do, so nothing lost in a power cut is spliced."""
    data = media_bytes(20 * MiB)
    resource = Resource(data, content_type="video/mp4", etag='"r"', rate=8 * MiB)
    url = server.add("/reboot.mp4", resource)
    dest = library_dir / "reboot.mp4"
    cancel = asyncio.Event()

    def stop_at_a_third(report: TransferProgress) -> None:
        if report.downloaded_bytes > len(data) // 3:
            cancel.set()

    with pytest.raises(TransferCancelled):
        await download(
            [Candidate(url)],
            dest,
            client=client,
            settings=with_connections(settings, 4),
            on_progress=stop_at_a_third,
            cancel=cancel,
        )
    state_file = files.state_path(dest)
    state = json.loads(state_file.read_text())
    assert state["mode"] == "ranges" and state["written"] and state["done"] == []
    state["boot"] = "an-earlier-boot"
    state_file.write_text(json.dumps(state))
    resource.rate = None
    before = len(server.requests)
    result = await download([Candidate(url)], dest, client=client, settings=settings)
    assert sha(result.path.read_bytes()) == sha(data)
    first = next(r.headers["Range"] for r in server.requests[before:] if r.method == "GET")
    assert first == f"bytes=0-{len(data) - 1}"  # everything again: nothing was synced
