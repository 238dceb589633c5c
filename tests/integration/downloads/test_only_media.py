"""Item 7: a file reaches the library only when it is positively identified as audio or
video of a container we write (magic bytes AND an audio/video stream with a duration); its
extension is the content's; a refusal is recorded and the next candidate is tried. On every
path: direct, HLS, yt-dlp."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from showkeeper.db.models import QueueItem
from showkeeper.domain.candidates import Candidate
from showkeeper.downloads import foreground, service
from showkeeper.downloads.engine import download
from showkeeper.downloads.transfer import AllCandidatesFailed
from tests.integration.downloads.queue_support import add_series
from tests.integration.downloads.servers import Resource, make_media, media_bytes

DESKTOP = "[Desktop Entry]\nType=Application\nName=Episode 1\nExec=sh -c 'id'\n"
IMPOSTORS = {
    "utf16-desktop": (DESKTOP.encode("utf-16"), "UTF-16 text"),
    "pe": (b"MZ\x90\x00" + os.urandom(60) + b"PE\x00\x00" + os.urandom(50_000), "Windows"),
    "elf": (b"\x7fELF\x02\x01\x01\x00" + os.urandom(50_000), "ELF"),
    "random": (b"\x00\x01" + os.urandom(50_000), "not a known audio or video container"),
    # the right magic bytes, but nothing ffprobe can read: no stream with a duration
    "fake-mp4": (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00" + os.urandom(50_000), "stream"),
    "fake-ts": ((b"\x47" + os.urandom(187)) * 400, "stream"),
}


def library_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("name", sorted(IMPOSTORS))
@pytest.mark.parametrize("content_type", ["video/mp4", "application/octet-stream"])
async def test_impostors_never_reach_the_library(
    server, client, settings, library_dir, name: str, content_type: str
) -> None:
    body, why = IMPOSTORS[name]
    url = server.add(f"/{name}.mp4", Resource(body, content_type=content_type))
    with pytest.raises(AllCandidatesFailed) as caught:
        await download(
            [Candidate(url)], library_dir / "Show - S01E01.mp4", client=client, settings=settings
        )
    assert "is not media" in str(caught.value) and why in str(caught.value)
    assert library_files(library_dir) == []


async def test_audio_is_media_with_its_own_extension(
    server, client, settings, library_dir, tmp_path
) -> None:
    for ext, kind in (("mp3", "audio/mpeg"), ("ogg", "audio/ogg"), ("m4a", "audio/mp4")):
        src = tmp_path / f"audio.{ext}"
        import subprocess

        from showkeeper.ffmpeg import ffmpeg_exe

        subprocess.run(
            [ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i", "sine=d=1", str(src)],
            check=True,
        )
        url = server.add(
            f"/a.{ext}", Resource(src.read_bytes(), content_type="application/octet-stream")
        )
        result = await download(
            [Candidate(url)], library_dir / f"ep-{ext}.mp4", client=client, settings=settings
        )
        assert result.path.name == f"ep-{ext}.{ext}", kind


async def test_the_ytdlp_path_is_checked_too(server, client, settings, library_dir) -> None:
    # yt-dlp finds a "video.mp4" on the page; it is an executable
    exe = server.add("/video.mp4", Resource(IMPOSTORS["pe"][0], content_type="video/mp4"))
    page = server.add(
        "/watch",
        Resource(f'<html><video src="{exe}"></video></html>'.encode(), content_type="text/html"),
    )
    with pytest.raises(AllCandidatesFailed) as caught:
        await download(
            [Candidate(page, kind="page")],
            library_dir / "S01E01.mp4",
            client=client,
            settings=settings,
        )
    assert "is not media: it is a Windows executable" in str(caught.value)
    assert library_files(library_dir) == []


async def test_a_refused_candidate_is_recorded_and_the_next_one_wins(
    settings, server, library_dir
) -> None:
    from showkeeper.context import open_context

    once = settings.model_copy(update={"download_max_attempts": 1})
    async with open_context(once) as ctx:
        await _rotation(ctx, server, library_dir)


async def _rotation(ctx, server, library_dir) -> None:  # type: ignore[no-untyped-def]
    good = media_bytes(80_000)
    bad_only = await add_series(
        ctx.db,
        "bad",
        [
            (
                1,
                1,
                [
                    {
                        "url": server.add(
                            "/bad.mp4", Resource(IMPOSTORS["elf"][0], content_type="video/mp4")
                        )
                    }
                ],
            )
        ],
    )
    mixed = await add_series(
        ctx.db,
        "mixed",
        [
            (
                1,
                1,
                [
                    {
                        "url": server.add(
                            "/x.mp4", Resource(IMPOSTORS["pe"][0], content_type="video/mp4")
                        )
                    },
                    {"url": server.add("/good.mp4", Resource(good, content_type="video/mp4"))},
                ],
            )
        ],
    )
    result = await service.enqueue_episodes(ctx, [*bad_only, *mixed])
    final = await foreground.run_until_finished(ctx, result.item_ids)
    assert sorted(final.values()) == ["completed", "failed"]
    async with ctx.db.session() as s:
        failed = (
            await s.execute(select(QueueItem).where(QueueItem.status == "failed"))
        ).scalar_one()
    assert failed.last_error is not None and "it is an ELF executable" in failed.last_error
    files = library_files(library_dir)
    assert files == ["Mixed/Season 01/Mixed - S01E01 - Episode 1.mp4"]
    assert (library_dir / files[0]).read_bytes() == good


def test_without_ffprobe_the_ffmpeg_wheel_reads_the_streams(tmp_path: Path) -> None:
    """The imageio-ffmpeg wheel has no ffprobe: `ffmpeg -i` output decides instead."""
    import subprocess
    import sys

    real = make_media(tmp_path / "real.mp4", seconds=1)
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(IMPOSTORS["fake-mp4"][0])
    script = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from showkeeper.ffmpeg import find_ffmpeg, find_ffprobe\n"
        "from showkeeper.downloads.verify import NotMediaError, identify_media\n"
        "assert find_ffprobe().path is None and find_ffmpeg().origin == 'imageio-ffmpeg'\n"
        "info = asyncio.run(identify_media(Path(sys.argv[1]), source='real'))\n"
        "assert info.ext == 'mp4' and set(info.streams) == {'video', 'audio'}, info\n"
        "assert 0.5 < info.duration_s < 2, info\n"
        "try:\n"
        "    asyncio.run(identify_media(Path(sys.argv[2]), source='fake'))\n"
        "except NotMediaError as exc:\n"
        "    print('refused:', exc)\n"
    )
    empty = tmp_path / "bin"
    empty.mkdir()  # a PATH with neither ffmpeg nor ffprobe
    result = subprocess.run(
        [sys.executable, "-c", script, str(real), str(fake)],
        env={"PATH": str(empty), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "refused: fake is not media: no audio or video stream" in result.stdout
