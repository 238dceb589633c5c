"""Real folder trees for library tests."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path


def make_tree(root: Path, files: Iterable[str], *, size: int = 0) -> None:
    """Create empty (or ``size``-byte) files at the given relative paths."""
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)


def age(root: Path, seconds: int = 60) -> None:
    """Move the mtime of every recently changed directory ``seconds`` into the past.

    A scan never trusts an mtime younger than 2 s (it could change again within the same
    timestamp tick), so a test that wants "unchanged" folders ages the tree first. Folders
    aged before keep their mtime, so they still look unchanged.
    """
    now = time.time_ns()
    past = now - seconds * 1_000_000_000
    for dirpath, _dirs, _files in os.walk(root):
        if os.stat(dirpath).st_mtime_ns > past + 10**9:
            os.utime(dirpath, ns=(past, past), follow_symlinks=False)
