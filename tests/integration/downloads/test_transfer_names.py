"""Hostile names: remote extensions, Content-Disposition and yt-dlp results never escape
the library root or land with a refused extension."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from showkeeper.domain.candidates import Candidate
from showkeeper.domain.paths import ALLOWED_EXTENSIONS
from showkeeper.downloads.engine import download
from showkeeper.downloads.transfer import AllCandidatesFailed
from tests.integration.downloads.servers import Resource, make_media, media_bytes

BAD_SUFFIXES = (".exe", ".desktop", ".flv", ".unknown_video")


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    src = tmp_path_factory.mktemp("media-src")
    return {
        "mp4": make_media(src / "clip.mp4", seconds=1).read_bytes(),
        "flv": make_media(src / "clip.flv", seconds=1).read_bytes(),
    }


def all_files(root: Path) -> list[Path]:
    return [Path(d) / f for d, _, names in os.walk(root) for f in names]


def assert_clean(tmp_path: Path, library_dir: Path) -> None:
    """Nothing with a refused extension anywhere, nothing new outside the library/data."""
    for path in all_files(tmp_path):
        assert path.suffix.lower() not in BAD_SUFFIXES, path
        assert "evil" not in path.name, path
    for path in all_files(library_dir):
        assert path.suffix.lstrip(".") in ALLOWED_EXTENSIONS, path


async def test_content_disposition_and_remote_extension_are_ignored(
    server, client, settings, library_dir, tmp_path
):
    data = media_bytes(10_000)
    url = server.add(
        "/x/evil.exe",
        Resource(
            data,
            content_type="application/octet-stream",
            headers={"Content-Disposition": 'attachment; filename="../../evil.desktop"'},
        ),
    )
    dest = library_dir / "Show" / "Season 01" / "Show - S01E01.mp4"
    result = await download([Candidate(url)], dest, client=client, settings=settings)
    assert result.path == dest.resolve()
    assert dest.read_bytes() == data
    assert_clean(tmp_path, library_dir)


async def test_unknown_type_with_desktop_url_keeps_our_extension(
    server, client, settings, library_dir, tmp_path
):
    url = server.add("/run.desktop", Resource(media_bytes(5000), content_type="video/x-bad"))
    result = await download(
        [Candidate(url)], library_dir / "ep.desktop", client=client, settings=settings
    )
    assert result.path.name == "ep.mp4"  # the content's extension; .desktop is refused too
    assert_clean(tmp_path, library_dir)
    # and a real launcher behind such a URL is refused outright (text is never media)
    launcher = server.add("/l.desktop", Resource(b"[Desktop Entry]\n", content_type="video/x-bad"))
    with pytest.raises(AllCandidatesFailed, match="is not media: it is text"):
        await download(
            [Candidate(launcher)], library_dir / "ep2.mp4", client=client, settings=settings
        )
    assert not (library_dir / "ep2.mp4").exists()


@pytest.mark.parametrize(
    ("path", "kind"), [("/evil.exe", "application/octet-stream"), ("/clip.flv", "video/x-flv")]
)
async def test_ytdlp_results_with_refused_extensions_are_deleted(
    server, client, settings, library_dir, tmp_path, media, path, kind
):
    body = media["flv"] if path.endswith(".flv") else media["mp4"]
    url = server.add(path, Resource(body, content_type=kind))
    dest = library_dir / "Show - S01E03.mp4"
    with pytest.raises(AllCandidatesFailed) as caught:
        await download([Candidate(url, kind="page")], dest, client=client, settings=settings)
    assert "refused file extension" in caught.value.tried[0][1]
    assert list(library_dir.iterdir()) == []  # the yt-dlp work dir is gone too
    assert_clean(tmp_path, library_dir)


async def test_ytdlp_keeps_its_allowed_extension(
    server, client, settings, library_dir, tmp_path, media
):
    video = server.add("/v.mp4", Resource(media["mp4"], content_type="video/mp4"))
    page = server.add(
        "/watch",
        Resource(f'<html><video src="{video}"></video></html>'.encode(), content_type="text/html"),
    )
    dest = library_dir / "Show - S01E04.mkv"
    reports = []
    result = await download(
        [Candidate(page, kind="page")],
        dest,
        client=client,
        settings=settings,
        on_progress=reports.append,
    )
    assert result.method == "ytdlp"
    assert result.path == (library_dir / "Show - S01E04.mp4").resolve()
    assert result.path.read_bytes() == media["mp4"]
    assert reports and reports[-1].downloaded_bytes == len(media["mp4"])
    assert sorted(p.name for p in library_dir.iterdir()) == ["Show - S01E04.mp4"]
    assert_clean(tmp_path, library_dir)
