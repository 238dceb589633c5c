"""A real, small tmpfs for the disk-full tests.

Mounting needs root (CAP_SYS_ADMIN). As root, a mount that fails is a broken test machine and
fails the test loudly; only a non-root run may skip, since it cannot mount at all.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def tmpfs(mount_point: Path, size: str) -> Iterator[Path]:
    """A real tmpfs of ``size`` (mount's syntax: 2m, 1200k) at ``mount_point``, unmounted
    afterwards. Skips the test when not root; fails it when root cannot mount."""
    mount_point.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)],
            capture_output=True,
            text=True,
        )
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        error = lines[0] if done.returncode != 0 else ""
    except OSError as exc:  # no mount binary
        error = str(exc)
    if error:
        if os.geteuid() == 0:
            pytest.fail(
                f"running as root but mounting a tmpfs at {mount_point} failed ({error}); "
                "the disk-full tests need it: give the container CAP_SYS_ADMIN (--privileged)",
                pytrace=False,
            )
        pytest.skip(f"mounting a tmpfs needs root (CAP_SYS_ADMIN): {error}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
