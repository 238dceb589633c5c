"""Disk full: a real 2 MiB tmpfs (mounted as root), and RLIMIT_FSIZE in a real process.

Both run here: the tmpfs tests need CAP_SYS_ADMIN (root on this machine and in CI; as root a
failed mount fails them, only a non-root run skips them); the RLIMIT_FSIZE test needs nothing
and exercises the same mapping through `showkeeper fetch`.
"""

from __future__ import annotations

import asyncio
import resource
from collections.abc import Iterator
from pathlib import Path

import pytest

from showkeeper.domain.candidates import Candidate
from showkeeper.downloads.engine import download
from showkeeper.downloads.transfer import DiskFullError
from tests.integration.downloads.servers import (
    Resource,
    fetch_argv,
    fetch_env,
    make_hls,
    media_bytes,
)
from tests.integration.downloads.tmpfs import tmpfs

MiB = 1024 * 1024


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MiB tmpfs."""
    with tmpfs(tmp_path / "small", "2m") as mount_point:
        yield mount_point


def check_error(error: DiskFullError, mount_point: Path, dest: Path) -> None:
    text = str(error)
    assert text.startswith(f"no space left on {mount_point} (tmpfs) writing {dest.parent}/")
    assert list(dest.parent.iterdir()) == []  # .part and state removed


async def test_known_length_fails_before_writing(server, client, settings, small_fs):
    url = server.add("/big.mp4", Resource(media_bytes(4 * MiB), content_type="video/mp4"))
    dest = small_fs / "Show" / "ep.mp4"
    with pytest.raises(DiskFullError) as caught:
        await download([Candidate(url)], dest, client=client, settings=settings)
    check_error(caught.value, small_fs, dest)


async def test_enospc_while_streaming(server, client, settings, small_fs):
    body = Resource(media_bytes(4 * MiB), content_type="video/mp4", chunked=True)
    url = server.add("/chunked.mp4", body)
    dest = small_fs / "Show" / "ep.mp4"
    with pytest.raises(DiskFullError) as caught:
        await download([Candidate(url)], dest, client=client, settings=settings)
    check_error(caught.value, small_fs, dest)
    assert caught.value.__cause__ is not None  # a real ENOSPC from write()


async def test_a_ranged_download_checks_the_space_first(server, client, settings, small_fs):
    url = server.add("/multi.mp4", Resource(media_bytes(17 * MiB), content_type="video/mp4"))
    dest = small_fs / "ep.mp4"
    with pytest.raises(DiskFullError) as caught:
        await download([Candidate(url)], dest, client=client, settings=settings)
    check_error(caught.value, small_fs, dest)


async def test_hls_segments_fill_the_disk(server, client, settings, small_fs, tmp_path):
    playlist = make_hls(tmp_path / "hls", seconds=3, size="640x360", noise=True)
    total = sum(p.stat().st_size for p in playlist.parent.glob("*.ts"))
    assert total > 2 * MiB
    url = server.add_dir("/hls", playlist.parent) + playlist.name
    dest = small_fs / "ep.mp4"
    with pytest.raises(DiskFullError) as caught:
        await download([Candidate(url)], dest, client=client, settings=settings)
    assert str(caught.value).startswith(f"no space left on {small_fs} (tmpfs)")
    assert list(small_fs.iterdir()) == []  # the .hls-parts dir is removed


async def test_hls_join_fills_the_disk(server, client, settings, tmp_path):
    """The segments fit, the joined file does not: ffmpeg's ENOSPC is a DiskFullError too."""
    playlist = make_hls(tmp_path / "hls", seconds=2, size="320x240", noise=True)
    total = sum(p.stat().st_size for p in playlist.parent.glob("*.ts"))
    url = server.add_dir("/hls", playlist.parent) + playlist.name
    with tmpfs(tmp_path / "fits", f"{total // 1024 + 96}k") as mount_point:
        dest = mount_point / "ep.mp4"
        with pytest.raises(DiskFullError) as caught:
            await download([Candidate(url)], dest, client=client, settings=settings)
        assert str(caught.value).startswith(f"no space left on {mount_point} (tmpfs) writing ")
        assert "joined.mp4" in str(caught.value)
        assert list(mount_point.iterdir()) == []


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (MiB, MiB))


@pytest.mark.slow
async def test_file_size_limit_in_the_fetch_command(server, tmp_path):
    url = server.add(
        "/c.mp4", Resource(media_bytes(3 * MiB), content_type="video/mp4", chunked=True)
    )
    out = tmp_path / "lib" / "c.mp4"
    proc = await asyncio.create_subprocess_exec(
        *fetch_argv(url, out),
        env=fetch_env(tmp_path / "data"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=_limit_file_size,
    )
    _, stderr = await proc.communicate()
    lines = stderr.decode().strip().splitlines()
    assert proc.returncode == 1
    assert len(lines) == 1, lines
    assert "no space left on " in lines[0] and "(file size limit reached)" in lines[0]
    assert list(out.parent.iterdir()) == []
