"""HLS transfers against real ffmpeg-made streams on a local server."""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path

import pytest

from showkeeper.domain.candidates import Candidate
from showkeeper.downloads import files
from showkeeper.downloads.engine import download
from showkeeper.downloads.transfer import AllCandidatesFailed, TransferCancelled, TransferProgress
from showkeeper.ffmpeg import ffmpeg_exe
from tests.integration.downloads.servers import (
    MediaServer,
    Resource,
    decode_errors,
    duration_of,
    fetch_argv,
    fetch_env,
    make_hls,
    playlist_duration,
)

KEY = bytes(range(100, 116))


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6-second HLS stream with 1-second segments (shared, read-only)."""
    return make_hls(tmp_path_factory.mktemp("hls") / "plain", seconds=6)


def segment_gets(server: MediaServer, start: int = 0) -> list[str]:
    return [r.path for r in server.requests[start:] if r.method == "GET" and r.path.endswith(".ts")]


def check_output(path: Path, playlist: Path) -> None:
    assert abs(duration_of(path) - playlist_duration(playlist)) <= 1.0
    assert decode_errors(path) == ""


async def test_hls_to_mp4(server, client, settings, library_dir, stream):
    url = server.add_dir("/s", stream.parent) + stream.name
    dest = library_dir / "Show" / "Show - S01E01.ts"
    reports: list[TransferProgress] = []
    result = await download(
        [Candidate(url, kind="hls")],
        dest,
        client=client,
        settings=settings,
        on_progress=reports.append,
    )
    assert result.method == "hls"
    assert result.path == dest.with_suffix(".mp4").resolve()
    assert result.duration_s is not None
    assert abs(result.duration_s - playlist_duration(stream)) <= 1.0
    check_output(result.path, stream)
    assert sorted(p.name for p in dest.parent.iterdir()) == ["Show - S01E01.mp4"]
    assert len(segment_gets(server)) == 6
    assert reports[-1].downloaded_bytes > 0


async def test_hls_into_mkv_when_asked(server, client, settings, library_dir, stream):
    url = server.add_dir("/s", stream.parent) + stream.name
    result = await download(
        [Candidate(url)], library_dir / "ep.mkv", client=client, settings=settings
    )
    assert result.path.suffix == ".mkv"
    check_output(result.path, stream)


@pytest.mark.parametrize("iv", [None, "0123456789abcdef0123456789abcdef"])
async def test_aes_128(server, client, settings, library_dir, tmp_path, iv):
    """Explicit IVs, and IVs implied by the media sequence number (ffmpeg's IVs removed)."""
    playlist = make_hls(tmp_path / "enc", seconds=4, key=KEY, key_uri="secret.key", iv=iv)
    text = playlist.read_text()
    assert "METHOD=AES-128" in text
    if iv is None:
        text = re.sub(r",IV=0x[0-9a-fA-F]+", "", text)
        assert "IV=" not in text
    else:
        assert f"IV=0x{iv}" in text
    server.add_dir("/e", playlist.parent)
    server.add("/e/play.m3u8", Resource(text.encode(), content_type="application/x-mpegurl"))
    server.add("/e/secret.key", Resource(KEY))
    result = await download(
        [Candidate(server.url("/e/play.m3u8"))],
        library_dir / "enc.mp4",
        client=client,
        settings=settings,
    )
    check_output(result.path, playlist)
    assert len(server.requests_for("/e/secret.key", "GET")) == 1  # fetched once


async def test_fmp4_segments_with_init_section(server, client, settings, library_dir, tmp_path):
    playlist = make_hls(tmp_path / "fmp4", seconds=4, fmp4=True)
    assert "#EXT-X-MAP" in playlist.read_text()
    server.add_dir("/f", playlist.parent)
    result = await download(
        [Candidate(server.url("/f/index.m3u8"))],
        library_dir / "f.mp4",
        client=client,
        settings=settings,
    )
    check_output(result.path, playlist)
    assert len(server.requests_for("/f/index_init.mp4", "GET")) == 1


async def test_wrong_key_is_refused(server, client, settings, library_dir, tmp_path):
    playlist = make_hls(tmp_path / "enc", seconds=2, key=KEY, key_uri="secret.key")
    server.add_dir("/e", playlist.parent)
    server.add("/e/secret.key", Resource(bytes(16)))
    with pytest.raises(AllCandidatesFailed, match=r"did not decrypt|ffmpeg"):
        await download(
            [Candidate(server.url("/e/index.m3u8"))],
            library_dir / "enc.mp4",
            client=client,
            settings=settings,
        )
    assert list(library_dir.iterdir()) == []


async def test_master_playlist_variant_within_max_resolution(
    server, client, settings, library_dir, tmp_path
):
    root = tmp_path / "master"
    sizes = {"low": "160x90", "mid": "320x180", "high": "640x360"}
    for name, size in sizes.items():
        make_hls(root / name, seconds=2, size=size)
    (root / "master.m3u8").write_text(
        "#EXTM3U\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=160x90\nlow/index.m3u8\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=640x360\nhigh/index.m3u8\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=320x180\nmid/index.m3u8\n"
    )
    server.add(
        "/m/master.m3u8",
        Resource((root / "master.m3u8").read_bytes(), content_type="application/x-mpegURL"),
    )
    for name in sizes:
        server.add_dir(f"/m/{name}", root / name)
    capped = settings.model_copy(update={"max_resolution": 240})
    result = await download(
        [Candidate(server.url("/m/master.m3u8"))],
        library_dir / "v.mp4",
        client=client,
        settings=capped,
    )
    fetched = {r.path.split("/")[2] for r in server.requests if r.path.endswith(".ts")}
    assert fetched == {"mid"}
    info = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(result.path)], capture_output=True, text=True
    ).stderr
    assert re.search(r"Video: .* 320x180", info)


async def test_failed_segment_is_retried(server, client, settings, library_dir, stream):
    server.add_dir("/s", stream.parent)
    third = sorted(stream.parent.glob("*.ts"))[2]
    server.add(f"/s/{third.name}", Resource(third.read_bytes(), cut_after=1000, cut_times=1))
    result = await download(
        [Candidate(server.url(f"/s/{stream.name}"))],
        library_dir / "r.mp4",
        client=client,
        settings=settings,
    )
    check_output(result.path, stream)
    assert len(server.requests_for(f"/s/{third.name}", "GET")) == 2


async def test_cancel_then_resume_at_segment_granularity(
    server, client, settings, library_dir, stream
):
    server.add_dir("/s", stream.parent, delay=0.1)
    url = server.url(f"/s/{stream.name}")
    one = settings.model_copy(update={"download_connections": 1})  # two segments in flight
    names = [line for line in stream.read_text().splitlines() if line.endswith(".ts")]
    assert len(names) == 6

    async def cancel_then_resume(dest: Path) -> None:
        cancel = asyncio.Event()

        def stop_after_two(report: TransferProgress) -> None:
            cancel.set()  # the first report comes with the first finished segment

        with pytest.raises(TransferCancelled):
            await download(
                [Candidate(url)],
                dest,
                client=client,
                settings=one,
                on_progress=stop_after_two,
                cancel=cancel,
            )
        parts = files.hls_parts_dir(dest)
        kept = {int(p.stem) for p in parts.glob("*.seg")}
        assert 1 <= len(kept) < 6 and not dest.exists()
        # The cancel's final save lists every finished segment: that is what a resume reads.
        state = files.read_state(parts / "state.json") or {}
        assert {index for index, _ in state.get("done", [])} == kept, state
        before = len(server.requests)
        result = await download([Candidate(url)], dest, client=client, settings=one)
        check_output(result.path, stream)
        assert not parts.exists()
        fetched = sorted(names.index(Path(p).name) for p in segment_gets(server, before))
        missing = sorted(set(range(6)) - kept)
        assert fetched == missing, f"{dest.name}: kept {sorted(kept)}, fetched again {fetched}"

    # Every round resumes: kept segments are never fetched again, the others exactly once.
    for n in range(3):
        await cancel_then_resume(library_dir / f"c{n}.mp4")


async def test_changed_playlist_means_a_clean_restart(
    server, client, settings, library_dir, tmp_path
):
    playlist = make_hls(tmp_path / "chg", seconds=6, frequency=440)
    server.add_dir("/c", playlist.parent, delay=0.05)
    url = server.url("/c/index.m3u8")
    dest = library_dir / "c.mp4"
    cancel = asyncio.Event()
    one = settings.model_copy(update={"download_connections": 1})
    with pytest.raises(TransferCancelled):
        await download(
            [Candidate(url)],
            dest,
            client=client,
            settings=one,
            on_progress=lambda _: cancel.set(),
            cancel=cancel,
        )
    assert list(files.hls_parts_dir(dest).glob("*.seg"))
    for old in playlist.parent.glob("*.ts"):
        old.unlink()
    playlist = make_hls(tmp_path / "chg", seconds=4, hls_time=2, frequency=880)
    before = len(server.requests)
    result = await download([Candidate(url)], dest, client=client, settings=one)
    new_segments = len(list(playlist.parent.glob("*.ts")))
    assert len(segment_gets(server, before)) == new_segments  # nothing reused
    check_output(result.path, playlist)


async def test_duration_mismatch_is_refused(server, client, settings, library_dir, stream):
    lying = re.sub(
        r"#EXTINF:([\d.]+)", lambda m: f"#EXTINF:{float(m.group(1)) * 2}", stream.read_text()
    )
    server.add_dir("/s", stream.parent)
    server.add(
        "/s/lying.m3u8", Resource(lying.encode(), content_type="application/vnd.apple.mpegurl")
    )
    with pytest.raises(AllCandidatesFailed, match="refusing a spliced or truncated file"):
        await download(
            [Candidate(server.url("/s/lying.m3u8"))],
            library_dir / "l.mp4",
            client=client,
            settings=settings,
        )
    assert list(library_dir.iterdir()) == []


async def test_live_playlist_and_missing_segment_fail(
    server, client, settings, library_dir, stream
):
    live = stream.read_text().replace("#EXT-X-ENDLIST", "")
    server.add_dir("/s", stream.parent)
    server.add(
        "/s/live.m3u8", Resource(live.encode(), content_type="application/vnd.apple.mpegurl")
    )
    first = sorted(stream.parent.glob("*.ts"))[0].name
    broken = stream.read_text().replace(first, "nope.ts")
    server.add(
        "/s/broken.m3u8", Resource(broken.encode(), content_type="application/vnd.apple.mpegurl")
    )
    with pytest.raises(AllCandidatesFailed) as caught:
        await download(
            [Candidate(server.url("/s/live.m3u8")), Candidate(server.url("/s/broken.m3u8"))],
            library_dir / "x.mp4",
            client=client,
            settings=settings,
        )
    live_reason, broken_reason = (reason for _, reason in caught.value.tried)
    assert "live playlist" in live_reason
    assert "segment 0" in broken_reason and "404" in broken_reason
    assert list(library_dir.iterdir()) == []


@pytest.mark.slow
async def test_kill_9_during_hls_then_resume(server, tmp_path, library_dir):
    playlist = make_hls(tmp_path / "k", seconds=20)
    server.add_dir("/k", playlist.parent, delay=0.1)
    out = library_dir / "k.mp4"
    parts = files.hls_parts_dir(out)
    env = fetch_env(tmp_path / "data", connections=1)
    proc = await asyncio.create_subprocess_exec(
        *fetch_argv(server.url("/k/index.m3u8"), out),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )

    def saved_count() -> int:
        return len((files.read_state(parts / "state.json") or {}).get("done", []))

    while saved_count() < 8:
        assert proc.returncode is None, "fetch finished before it could be killed"
        assert not out.exists()
        await asyncio.sleep(0.01)
    proc.kill()
    await proc.wait()
    saved = {index for index, _ in (files.read_state(parts / "state.json") or {})["done"]}
    assert 8 <= len(saved) < 20 and not out.exists()
    server.dirs[0][2].delay = 0
    before = len(server.requests)
    proc = await asyncio.create_subprocess_exec(
        *fetch_argv(server.url("/k/index.m3u8"), out),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    refetched = segment_gets(server, before)
    assert len(refetched) <= 20 - len(saved)
    names = sorted(p.name for p in playlist.parent.glob("*.ts"))
    assert not {names.index(Path(p).name) for p in refetched} & saved
    check_output(out, playlist)
    assert sorted(p.name for p in library_dir.iterdir()) == ["k.mp4"]
