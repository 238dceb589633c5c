"""The disk-full tests' tmpfs: as root a mount that fails is a failure, never a skip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.integration.downloads.tmpfs import tmpfs


def test_a_mount_that_fails_fails_the_test_as_root_and_skips_it_otherwise(tmp_path: Path) -> None:
    expected = pytest.fail.Exception if os.geteuid() == 0 else pytest.skip.Exception
    mounted = False
    with pytest.raises(expected, match="tmpfs"), tmpfs(tmp_path / "bad", "no-such-size"):
        mounted = True
    assert not mounted


def test_as_root_the_tmpfs_is_mounted_and_its_size_holds(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    with tmpfs(tmp_path / "small", "1m") as mount_point:
        stats = os.statvfs(mount_point)
        assert stats.f_blocks * stats.f_frsize == 1024 * 1024
    assert not os.path.ismount(mount_point)
