"""Transfer files: ranges, state files, extension choice, disk-full mapping, commit."""

from __future__ import annotations

import errno
import os
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from showkeeper.domain.paths import ALLOWED_EXTENSIONS, ensure_inside
from showkeeper.downloads import files
from showkeeper.downloads.transfer import DiskFullError


def test_names_sit_next_to_the_final_file(tmp_path: Path) -> None:
    final = tmp_path / "Show - S01E02.mp4"
    assert files.part_path(final).name == "Show - S01E02.mp4.part"
    assert files.state_path(final).name == "Show - S01E02.mp4.part.state"
    assert files.hls_parts_dir(final).name == "Show - S01E02.mp4.hls-parts"
    assert files.ytdlp_work_dir(final).name == "Show - S01E02.mp4.ytdlp"
    assert files.sibling(final, "x.part").parent == tmp_path.resolve()


@pytest.mark.parametrize("name", ["../x.mp4", "a/b.mp4", "/etc/passwd", "..", "x\x00.mp4"])
def test_sibling_refuses_escapes(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="refused"):
        files.sibling(tmp_path / "lib" / "a.mp4", name)


@pytest.mark.parametrize(
    ("hints", "expected"),
    [
        (("mkv",), "ep.mkv"),
        ((".WEBM",), "ep.webm"),
        (("exe", ".desktop", None, "mkv"), "ep.mkv"),
        (("../.mp4",), "ep.mp4"),
        (("",), "ep.mp4"),
    ],
)
def test_with_extension(hints: tuple[str | None, ...], expected: str) -> None:
    assert files.with_extension(PurePosixPath("lib/ep.mp4"), *hints) == expected


def test_with_extension_falls_back_to_mp4_when_dest_is_refused() -> None:
    assert files.with_extension(PurePosixPath("lib/ep.desktop"), "exe") == "ep.mp4"


_NO_SEPARATORS = st.text(alphabet=st.characters(blacklist_characters="/\x00"), max_size=12)


@given(hint=st.text(max_size=40), second=st.none() | st.text(max_size=8), dest_ext=_NO_SEPARATORS)
def test_extension_property_nothing_escapes(
    tmp_path_factory: pytest.TempPathFactory, hint: str, second: str | None, dest_ext: str
) -> None:
    """Whatever the remote side claims, the name keeps our stem and an allowed extension."""
    root = tmp_path_factory.getbasetemp() / "prop-root"
    stem = "Show - S01E02"
    name = files.with_extension(PurePosixPath(f"{stem}.{dest_ext}"), hint, second)
    assert name.startswith(stem)
    ext = name.rsplit(".", 1)[1]
    assert ext in ALLOWED_EXTENSIONS
    assert "/" not in name and "\x00" not in name
    assert ensure_inside(root, name).parent == Path(os.path.realpath(root))


def test_merge_and_missing_ranges() -> None:
    assert files.merge_ranges([(5, 10), (0, 5), (20, 30), (25, 26), (40, 40)]) == [
        (0, 10),
        (20, 30),
    ]
    assert files.missing_ranges([(0, 10), (20, 30)], 35) == [(10, 20), (30, 35)]
    assert files.missing_ranges([], 5) == [(0, 5)]
    assert files.missing_ranges([(0, 50)], 40) == []


def test_state_roundtrip_and_corruption(tmp_path: Path) -> None:
    path = tmp_path / "a.part.state"
    assert files.read_state(path) is None
    files.write_state(path, {"done": [[0, 5]]})
    assert files.read_state(path) == {"done": [[0, 5]]}
    assert not path.with_name(path.name + ".tmp").exists()
    path.write_text("{not json")
    assert files.read_state(path) is None
    path.write_text("[1, 2]")
    assert files.read_state(path) is None


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EFBIG])
def test_disk_errors_map_to_disk_full_and_clean_up(tmp_path: Path, code: int) -> None:
    part = tmp_path / "a.mp4.part"
    part.write_bytes(b"partial")
    with pytest.raises(DiskFullError) as caught, files.disk_errors(part, part):
        raise OSError(code, os.strerror(code))
    assert str(caught.value).startswith("no space left on /")
    assert f"writing {part}" in str(caught.value)
    assert not part.exists()


def test_other_os_errors_pass_through(tmp_path: Path) -> None:
    part = tmp_path / "a.part"
    part.write_bytes(b"x")
    with pytest.raises(PermissionError), files.disk_errors(part, part):
        raise PermissionError(errno.EACCES, "denied")
    assert part.exists()


def test_ensure_free_space(tmp_path: Path) -> None:
    files.ensure_free_space(tmp_path / "a.part", 1)
    leftover = tmp_path / "a.part"
    leftover.write_bytes(b"x")
    with pytest.raises(DiskFullError, match="needs"):
        files.ensure_free_space(leftover, 1 << 62, leftover)
    assert not leftover.exists()


def test_commit_and_remove_partials(tmp_path: Path) -> None:
    tmp_path = tmp_path / "lib"
    tmp_path.mkdir()
    dest = tmp_path / "ep.mp4"
    part = files.part_path(dest)
    part.write_bytes(b"data")
    files.fsync_path(part)
    files.commit(part, dest)
    assert dest.read_bytes() == b"data" and not part.exists()
    for leftover in (
        files.part_path(tmp_path / "ep.mkv"),
        files.state_path(tmp_path / "ep.mkv"),
        files.hls_parts_dir(dest) / "000001.seg",
        files.ytdlp_work_dir(dest) / "media.webm.part",
    ):
        leftover.parent.mkdir(exist_ok=True)
        leftover.write_bytes(b"x")
    files.remove_partials(dest)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ep.mp4"]


def test_filesystem_of_names_the_mount(tmp_path: Path) -> None:
    assert files.filesystem_of(tmp_path / "missing" / "x").startswith("/")


def test_preallocate(tmp_path: Path) -> None:
    path = tmp_path / "p"
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        files.preallocate(fd, 12345)
    finally:
        os.close(fd)
    assert path.stat().st_size == 12345


def test_writeback_starts_without_changing_the_file(tmp_path: Path) -> None:
    path = tmp_path / "w.part"
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        writeback = files.Writeback(fd, every=1024)
        for _ in range(8):
            os.write(fd, b"x" * 1000)
            writeback.wrote(1000)
        function = files._sync_file_range()
        if os.uname().sysname == "Linux":
            assert function is not None
            assert function(fd, 0, 0, 2) == 0
    finally:
        os.close(fd)
    assert path.read_bytes() == b"x" * 8000
